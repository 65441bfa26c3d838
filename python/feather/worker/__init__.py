"""The worker: runs one model's steps for a feather server, over a Unix socket.

`python -m feather.worker --socket PATH --entry app.py` imports the app file (with
`FEATHER_WORKER=1`, so `ftr.build` only registers the model), connects, says `hello` and
answers `run` requests one at a time. The contract is docs/worker-protocol.md.

Modules:
- `main`: start up, `hello` or `fatal`, exit status
- `protocol`: frames (lengths, JSON header, binary parts) and their limits
- `messages`: the message headers, and reading a `run`
- `app`: loading the app file; the step and input components of a request
- `values`: input values from the wire to Python (`UploadedFile`s in a scratch folder)
- `outputs`: a step's return value to output components, file parts and pickled state
- `serve`: the request loop
"""
