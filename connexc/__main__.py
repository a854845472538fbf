"""`python -m connexc`: the same as the `connexc` command."""

import sys

from ._cli import main

sys.exit(main())
