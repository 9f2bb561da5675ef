"""The lecture's mathematics on one flat parameter vector: activations,
losses, penalties, the network's forward and backward pass, the objective J,
and the array namespace they compute in. It imports no other part of skae."""
