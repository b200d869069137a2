import sys

from vidbench.cli import main

sys.exit(main())
