"""rnn: Elman networks unrolled on tinygraph, trained with (truncated) backprop through time."""

from rnn.cell import ElmanCell
from rnn.dropout import dropout
from rnn.embedding import Embedding
from rnn.errors import ConfigError, ParameterFileError
from rnn.gru import GRUCell
from rnn.linear import Linear
from rnn.lstm import LSTMCell
from rnn.losses import last_step_cross_entropy, mse_loss, sequence_cross_entropy
from rnn.network import RNN
from rnn.optim import SGD, Adam, Optimizer, clip_grad_norm, zero_grad
from rnn.params import load_parameters, save_parameters, state_dict
from rnn.rtrl import RTRLResult, rtrl
from rnn.sequences import PaddedBatch, pad_sequences
from rnn.tbptt import TBPTTResult, tbptt
from rnn.training import train

__all__ = [
    "RNN", "SGD", "Adam", "ConfigError", "ElmanCell", "Embedding", "GRUCell", "LSTMCell", "Linear",
    "Optimizer", "PaddedBatch", "ParameterFileError", "RTRLResult", "TBPTTResult", "clip_grad_norm",
    "dropout", "last_step_cross_entropy", "load_parameters", "mse_loss", "pad_sequences", "rtrl",
    "save_parameters", "sequence_cross_entropy", "state_dict", "tbptt", "train", "zero_grad",
]
