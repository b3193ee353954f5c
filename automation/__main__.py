import os
import sys

from automation.cli.main import main

code = main()
sys.stdout.flush()
sys.stderr.flush()
# The mock engine leaves gRPC threads and an event loop behind; their teardown at interpreter
# exit only prints noise, so leave without it once the output is flushed.
os._exit(code)
