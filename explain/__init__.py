"""The simulation behind "Why are deep networks hard to train?".

Pure NumPy: nothing in this package imports streamlit, pandas or altair, so every
number a page shows can be computed, tested and benchmarked without a browser.

Where things live:

    explain/nn/        the engine, which knows nothing of the lessons
        activations    nonlinearities with their derivatives (a registry that feeds the UI)
        costs          quadratic, cross-entropy, log-likelihood: value and output delta
        initializers   zeros, constant, N(0, sigma^2), N(0, 1/n_in), Xavier, He
        layers         batch, layer and group normalization, inverted dropout: forward and
                       backward pairs
        network        the fully connected network: forward and backward by hand
        optimizers     SGD, momentum, Nesterov, Adagrad, RMSProp, Adam, AdamW (optax-style)
        schedules      learning-rate schedules, warm-up, the range test's rising rate
        regularizers   L2, L1, max-norm, early stopping
        training       the mini-batch loop, its per-epoch History, the range test
        surfaces       2-D test functions and the optimizer path runner
        datasets       the shipped MNIST digits and 2-D toy sets
        gradcheck      central finite differences, the reference for every backward
    explain/<lesson>   one module per lesson: ``neuron`` (learning slowdown), ``unstable``
                       (vanishing and exploding gradients), ``propagation`` (initialization),
                       ``zero_centred`` and ``symmetry`` (activations), ``experiments`` (MNIST)

Glossary (symbol -> name in code), following Nielsen's notation but batch-first:

    x, y          inputs (N, n_0) and targets (N, n_L), one sample per row
    W^l, b^l      ``W[l]`` of shape (n_{l-1}, n_l) and ``b[l]`` of shape (n_l,)
    z^l = a^{l-1} W^l + b^l   weighted input of layer l, ``z``
    a^l = act(z^l)            activation of layer l, ``a``
    v^l = a^{l-1} W^l         a normalized layer's input; z^l = gamma^l xhat^l + b^l
    xhat          the normalized values (mean 0, variance 1 over the normalization's axis)
    gamma, beta   a normalized layer's scale and shift (beta is stored in ``b``)
    sigma, sigma' ``sigmoid``, ``sigmoid_prime``
    C             the cost, averaged over the batch
    delta^l       dC/dz^l per sample, ``delta`` (N, n_l); its batch mean is dC/db^l
    dW, db        dC/dW^l and dC/db^l, averaged over the batch
    eta, eta_t    learning rate; its value at step t under a schedule
    beta          momentum coefficient; beta1, beta2 Adam's decay rates; rho RMSProp's
    g, v, m, s, G a gradient; velocity; first moment; second moment; Adagrad's sum of g^2
    lmbda, lmbda1 L2 and L1 regularization strengths (``lambda`` is a Python keyword)
    n             size of the whole training set (for the L2 term eta*lmbda/n)
    keep          dropout's keep probability
    kappa         condition number lambda_max / lambda_min of a quadratic surface
    rng           a seeded ``np.random.Generator``; no global random state anywhere
"""
