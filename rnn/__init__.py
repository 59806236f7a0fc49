"""rnn: Elman networks unrolled on tinygraph, trained with (truncated) backpropagation through time."""
