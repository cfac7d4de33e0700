import gc

from scheduler.app import create_app

app = create_app()

# What is loaded by now (modules, mappers, templates, the app) lives as long as the
# process: frozen out of the garbage collector's way, a full collection no longer
# rescans it (about 165,000 objects, 70 ms, every hundred or so requests at ten times
# the demo); what requests create is collected as before.
gc.freeze()
