"""Digit Lab's engine: everything but the page. Nothing here imports Streamlit or Plotly
(tests/test_boundary.py checks it); the page is `app.py` and `ui/`. The run service that
trains visitors' networks in worker processes is `runs/`, which uses this package (never
the other way round).

    network      Network: sigmoid layers, the forward pass, the cost; the options' one check
    sgd          mini-batch SGD with backpropagation (the book's BP1-BP4)
    lookstep     one SGD step with its BP1, BP2 and BP4 kept, for the page's step panel
    mnist        finding, verifying, downloading and loading MNIST; the darkness baseline
    preprocess   a canvas drawing to the 28x28 image the network reads
    verdict      when the page may name a digit: a plain answer, "4 or 9?" or "?"
    modelfile    saving and loading .npz model files, validating everything in them
    models       the shipped models' catalogue; `read`: what a network makes of a drawing
    insight      what a network has learnt: weight pictures, confusion matrix, mistakes
    lab          where a drawing lands (PCA map), operating on neurons, nearest digits
    hints        the book's hints over a run's own figures (eta, saturation, overfitting)
    teach        fine-tuning a copy of a network on a visitor's drawings
    settings     Settings (what defines a run) and Limits (what one run may use)
    trainer      TrainingRun, the training loop, steered by a control hook
    protocol     a run's states (one state machine) and the commands a run can be given
    augment      distorted copies of digits; glyphs: digits in drawn styles (training only)
    train        the command line (python -m nn.train)
"""
