"""The simulation behind "Why are deep networks hard to train?".

Pure NumPy: nothing in this package imports streamlit, pandas or altair, so every
number a page shows can be computed, tested and benchmarked without a browser.

Glossary (symbol -> name in code), following Nielsen's notation but batch-first:

    x, y          inputs (N, n_0) and targets (N, n_L), one sample per row
    W^l, b^l      ``W[l]`` of shape (n_{l-1}, n_l) and ``b[l]`` of shape (n_l,)
    z^l = a^{l-1} W^l + b^l   weighted input of layer l, ``z``
    a^l = act(z^l)            activation of layer l, ``a``
    sigma, sigma' ``sigmoid``, ``sigmoid_prime``
    C             the cost, averaged over the batch
    delta^l       dC/dz^l per sample, ``delta`` (N, n_l); its batch mean is dC/db^l
    dW, db        dC/dW^l and dC/db^l, averaged over the batch
    eta           learning rate
    lmbda         L2 regularization strength (``lambda`` is a Python keyword)
    n             size of the whole training set (for the L2 term eta*lmbda/n)
    rng           a seeded ``np.random.Generator``; no global random state anywhere

Modules: ``activations``, ``costs``, ``initializers``, ``network`` (forward and
backward by hand), ``optimizers``, ``training``, ``datasets``, ``gradcheck``; and one per
lesson: ``neuron`` (learning slowdown), ``unstable`` (vanishing and exploding gradients),
``propagation`` (initialization), ``zero_centred`` and ``symmetry``, ``experiments`` (MNIST).
"""
