import sys

from paicha.cli import main

sys.exit(main())
