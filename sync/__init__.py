"""The composition root: config, clock, the sync cycle, the daemon and the command line."""
