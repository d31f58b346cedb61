"""The engine: a small neural-network library in NumPy, with backpropagation by hand.

Nothing here knows about a lesson; the lesson modules one level up (``explain.neuron``,
``explain.unstable``, ...) build their experiments from these parts.
"""
