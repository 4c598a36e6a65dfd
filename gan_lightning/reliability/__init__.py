"""What keeps a run's work safe: exact resume state (`resume`), atomic and checked checkpoints
(`checkpoints`), the divergence guard (`guard`), Ctrl-C / SIGTERM between batches (`shutdown`) and
run folders that never overwrite (`runs`)."""
