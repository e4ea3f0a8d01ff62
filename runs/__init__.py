"""The run service: visitors' training runs and teach jobs in worker processes, on one server.

    manager   `RunManager` (one per server, `RunManager.shared()`): the slots, the bounded
              queue, the watchdog, the warm spare worker, the shared MNIST copy; `RunHandle`,
              the page's read-only view of one run, and the commands it may send
    worker    the process a job runs in: one job, its reports, its commands
    worker_main  its entry (`python -m runs.worker_main FD [FOLDER]`): the warm-up, at the
              lowest priority for a spare, then the job
    messages  what the manager and a worker say to each other (`Start`, `Report`) and the
              two kinds of job (`TrainJob`, `TeachJob`)
    view      `RunView`, the one typed picture of a run that the page draws, built in one place
    estimate  time left from a run's measured speed, and a queued visitor's expected wait
    data      the shared, read-only MNIST copy in a temporary folder that names its owner

`nn/` is the engine (the network, `TrainingRun`, `fine_tune`, settings and limits, the states
and commands of a run in `nn.protocol`) and never imports this package. docs/runs.md says what
the service guarantees and what it does not.
"""
