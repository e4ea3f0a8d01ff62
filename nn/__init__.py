"""Digit Lab's engine: the network, its training, the data, drawing preparation, model files,
the training-run manager and the command line. Nothing here imports Streamlit or Plotly
(tests/test_boundary.py checks it); the page is `app.py` and `ui/`.

    network    Network: sigmoid layers, the forward pass, the cost
    sgd        mini-batch SGD with backpropagation (the book's BP1-BP4)
    mnist      finding, verifying, downloading and loading MNIST; the darkness baseline
    augment    distorted copies of digits, for training the default model
    preprocess a canvas drawing to the 28x28 image the network reads
    modelfile  saving and loading .npz model files, validating everything in them
    models     the catalogue of shipped models, and reading a drawing with a network
    training   Settings, Limits and the training loop of one run
    runs       the server's runs: one worker process each, a slot limit and a queue
    worker     the process a run trains in
    train      the command line (python -m nn.train)
    charts, presets  page content, moving to ui/ (issue 11)
"""
