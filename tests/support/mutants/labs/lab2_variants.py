"""Lab 2 mutation corpus: typical buggy variants and alternative correct implementations.

BUGS maps a variant name to a `Bug`: the grade_id of a test cell that must fail, the
replacement sources {function name: source}, and the bug's `cause` label (one of CAUSES, the
same set as lab 1's). ALTERNATIVES maps a name to {function name: replacement source}; they must
earn full marks. The sources run in the master notebook's namespace (`np`, `sigmoid`, `one_hot`
are available); a replaced function is also seen by the notebook functions that call it, e.g.
`train_two_layer`.
"""

from mutants.bug import CAUSE_LABELS, Bug

CAUSES = CAUSE_LABELS  # a bug's cause is one of these labels, the same in every corpus

_TRAIN = """
def train_two_layer(X, y, n_hidden=8, lr=2.0, epochs=2000, seed=0):
    rng = np.random.default_rng(seed)
    R, n = X.shape
    K = int(np.max(y)) + 1
    Y = one_hot(y, K)
    W1, b1 = {init_W1}, np.zeros(n_hidden)
    W2, b2 = {init_W2}, np.zeros(K)
    for _ in range(epochs):
        F1, A2 = two_layer_forward(X, W1, b1, W2, b2)
        dW1, db1, dW2, db2 = two_layer_backward(cross_entropy_gradient(A2, Y), X, F1, W2)
        {update}
    return W1, b1, W2, b2
"""
_RANDOM = {"init_W1": "rng.normal(size=(n_hidden, n))", "init_W2": "rng.normal(size=(K, n_hidden))"}
_STEP = (
    "W1, b1 = W1 - lr / R * dW1, b1 - lr / R * db1\n"
    "        W2, b2 = W2 - lr / R * dW2, b2 - lr / R * db2"
)


def _train(**parts: str) -> str:
    """The reference training loop with some of its parts replaced."""
    return _TRAIN.format(**{**_RANDOM, "update": _STEP, **parts})


BUGS: dict[str, Bug] = {
    # -- softmax -------------------------------------------------------------------------------
    "softmax_unstable_no_shift": Bug(
        "test_softmax",
        {
            "softmax": """
def softmax(A):
    E = np.exp(A)
    return E / E.sum(axis=1, keepdims=True)
"""
        },
        "other",
    ),
    "softmax_over_wrong_axis": Bug(
        "test_softmax",
        {
            "softmax": """
def softmax(A):
    E = np.exp(A - A.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)
"""
        },
        "axis",
    ),
    "softmax_shift_by_global_max": Bug(
        "test_softmax",
        {
            "softmax": """
def softmax(A):
    E = np.exp(A - np.max(A))
    return E / E.sum(axis=1, keepdims=True)
"""
        },
        "axis",
    ),
    "softmax_sum_over_whole_batch": Bug(
        "test_softmax",
        {
            "softmax": """
def softmax(A):
    E = np.exp(A - A.max(axis=1, keepdims=True))
    return E / E.sum()
"""
        },
        "axis",
    ),
    "softmax_row_sums_without_keepdims": Bug(
        "test_softmax",
        {
            "softmax": """
def softmax(A):
    E = np.exp(A - A.max(axis=1, keepdims=True))
    return E / E.sum(axis=1)
"""
        },
        "broadcast",
    ),
    "softmax_floor_division": Bug(
        "test_softmax",
        {
            "softmax": """
def softmax(A):
    E = np.exp(A - A.max(axis=1, keepdims=True))
    return E // E.sum(axis=1, keepdims=True)
"""
        },
        "integer-division",
    ),
    "softmax_shift_by_row_minimum": Bug(
        "test_softmax",
        {
            "softmax": """
def softmax(A):
    E = np.exp(A - A.min(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)
"""
        },
        "other",
    ),
    # -- softmax_jacobian ----------------------------------------------------------------------
    "jacobian_missing_diagonal": Bug(
        "test_softmax_jacobian",
        {
            "softmax_jacobian": """
def softmax_jacobian(A):
    F = softmax(A)
    return -np.einsum("ri,rj->rij", F, F)
"""
        },
        "missing-term",
    ),
    "jacobian_diagonal_only": Bug(
        "test_softmax_jacobian",
        {
            "softmax_jacobian": """
def softmax_jacobian(A):
    F = softmax(A)
    return np.stack([np.diag(f * (1 - f)) for f in F])
"""
        },
        "missing-term",
    ),
    "jacobian_sign_flipped": Bug(
        "test_softmax_jacobian",
        {
            "softmax_jacobian": """
def softmax_jacobian(A):
    F = softmax(A)
    return np.einsum("ri,rj->rij", F, F) - F[:, :, None] * np.eye(A.shape[1])
"""
        },
        "sign",
    ),
    "jacobian_batch_product_not_outer": Bug(
        "test_softmax_jacobian",
        {
            "softmax_jacobian": """
def softmax_jacobian(A):
    F = softmax(A)
    return F[:, :, None] * np.eye(A.shape[1]) - F @ F.T
"""
        },
        "dot-vs-elementwise",
    ),
    "jacobian_outer_of_logits": Bug(
        "test_softmax_jacobian",
        {
            "softmax_jacobian": """
def softmax_jacobian(A):
    F = softmax(A)
    return F[:, :, None] * np.eye(A.shape[1]) - A[:, :, None] * A[:, None, :]
"""
        },
        "wrong-input",
    ),
    # -- cross_entropy -------------------------------------------------------------------------
    "cross_entropy_log_of_softmax_underflows": Bug(
        "test_cross_entropy",
        {
            "cross_entropy": """
def cross_entropy(A, Y):
    return float(-np.sum(Y * np.log(softmax(A))))
"""
        },
        "other",
    ),
    "cross_entropy_mean_over_batch": Bug(
        "test_cross_entropy",
        {
            "cross_entropy": """
def cross_entropy(A, Y):
    c = A.max(axis=1, keepdims=True)
    log_f = A - c - np.log(np.exp(A - c).sum(axis=1, keepdims=True))
    return float(-np.sum(Y * log_f) / len(A))
"""
        },
        "factor-R",
    ),
    "cross_entropy_missing_minus": Bug(
        "test_cross_entropy",
        {
            "cross_entropy": """
def cross_entropy(A, Y):
    c = A.max(axis=1, keepdims=True)
    return float(np.sum(Y * (A - c - np.log(np.exp(A - c).sum(axis=1, keepdims=True)))))
"""
        },
        "sign",
    ),
    "cross_entropy_log_sum_exp_without_keepdims": Bug(
        "test_cross_entropy",
        {
            "cross_entropy": """
def cross_entropy(A, Y):
    c = A.max(axis=1)
    log_sum_exp = c + np.log(np.exp(A - c[:, None]).sum(axis=1))
    return float(-np.sum(Y * (A - log_sum_exp)))
"""
        },
        "broadcast",
    ),
    "cross_entropy_log_sum_exp_over_batch": Bug(
        "test_cross_entropy",
        {
            "cross_entropy": """
def cross_entropy(A, Y):
    c = A.max(axis=0, keepdims=True)
    log_sum_exp = c + np.log(np.exp(A - c).sum(axis=0, keepdims=True))
    return float(-np.sum(Y * (A - log_sum_exp)))
"""
        },
        "axis",
    ),
    "cross_entropy_forgets_the_shift": Bug(
        "test_cross_entropy",
        {
            "cross_entropy": """
def cross_entropy(A, Y):
    c = A.max(axis=1, keepdims=True)
    log_sum_exp = np.log(np.exp(A - c).sum(axis=1, keepdims=True))
    return float(-np.sum(Y * (A - log_sum_exp)))
"""
        },
        "missing-term",
    ),
    "cross_entropy_log10": Bug(
        "test_cross_entropy",
        {
            "cross_entropy": """
def cross_entropy(A, Y):
    c = A.max(axis=1, keepdims=True)
    log_f = (A - c - np.log(np.exp(A - c).sum(axis=1, keepdims=True))) / np.log(10)
    return float(-np.sum(Y * log_f))
"""
        },
        "other",
    ),
    # -- cross_entropy_gradient ----------------------------------------------------------------
    "ce_gradient_sign_flipped": Bug(
        "test_cross_entropy_gradient",
        {
            "cross_entropy_gradient": """
def cross_entropy_gradient(A, Y):
    return Y - softmax(A)
"""
        },
        "sign",
    ),
    "ce_gradient_mean_over_batch": Bug(
        "test_cross_entropy_gradient",
        {
            "cross_entropy_gradient": """
def cross_entropy_gradient(A, Y):
    return (softmax(A) - Y) / len(A)
"""
        },
        "factor-R",
    ),
    "ce_gradient_of_probabilities": Bug(
        "test_cross_entropy_gradient",
        {
            "cross_entropy_gradient": """
def cross_entropy_gradient(A, Y):
    return -Y / softmax(A)
"""
        },
        "missing-term",
    ),
    "ce_gradient_forgets_labels": Bug(
        "test_cross_entropy_gradient",
        {
            "cross_entropy_gradient": """
def cross_entropy_gradient(A, Y):
    return softmax(A)
"""
        },
        "missing-term",
    ),
    "ce_gradient_transposed": Bug(
        "test_cross_entropy_gradient",
        {
            "cross_entropy_gradient": """
def cross_entropy_gradient(A, Y):
    return (softmax(A) - Y).T
"""
        },
        "transpose",
    ),
    "ce_gradient_diagonal_of_jacobian_only": Bug(
        "test_cross_entropy_gradient",
        {
            "cross_entropy_gradient": """
def cross_entropy_gradient(A, Y):
    F = softmax(A)
    return -Y / F * F * (1 - F)
"""
        },
        "missing-term",
    ),
    # -- answer_initial_loss -------------------------------------------------------------------
    "initial_loss_per_sample": Bug(
        "test_answer_initial_loss",
        {
            "answer_initial_loss": """
def answer_initial_loss(R, K):
    return float(np.log(K))
"""
        },
        "factor-R",
    ),
    "initial_loss_log10": Bug(
        "test_answer_initial_loss",
        {
            "answer_initial_loss": """
def answer_initial_loss(R, K):
    return R * float(np.log10(K))
"""
        },
        "other",
    ),
    "initial_loss_negative": Bug(
        "test_answer_initial_loss",
        {
            "answer_initial_loss": """
def answer_initial_loss(R, K):
    return R * float(np.log(1 / K))
"""
        },
        "sign",
    ),
    "initial_loss_probability_not_loss": Bug(
        "test_answer_initial_loss",
        {
            "answer_initial_loss": """
def answer_initial_loss(R, K):
    return R / K
"""
        },
        "other",
    ),
    # -- two_layer_forward ---------------------------------------------------------------------
    "forward_no_hidden_activation": Bug(
        "test_two_layer_forward",
        {
            "two_layer_forward": """
def two_layer_forward(X, W1, b1, W2, b2):
    A1 = X @ W1.T + b1
    return A1, A1 @ W2.T + b2
"""
        },
        "missing-term",
    ),
    "forward_sigmoid_on_output": Bug(
        "test_two_layer_forward",
        {
            "two_layer_forward": """
def two_layer_forward(X, W1, b1, W2, b2):
    F1 = sigmoid(X @ W1.T + b1)
    return F1, sigmoid(F1 @ W2.T + b2)
"""
        },
        "other",
    ),
    "forward_weights_not_transposed": Bug(
        "test_two_layer_forward",
        {
            "two_layer_forward": """
def two_layer_forward(X, W1, b1, W2, b2):
    F1 = sigmoid(X @ W1 + b1)
    return F1, F1 @ W2 + b2
"""
        },
        "transpose",
    ),
    "forward_bias_after_activation": Bug(
        "test_two_layer_forward",
        {
            "two_layer_forward": """
def two_layer_forward(X, W1, b1, W2, b2):
    F1 = sigmoid(X @ W1.T) + b1
    return F1, F1 @ W2.T + b2
"""
        },
        "other",
    ),
    "forward_returns_pre_activation": Bug(
        "test_two_layer_forward",
        {
            "two_layer_forward": """
def two_layer_forward(X, W1, b1, W2, b2):
    A1 = X @ W1.T + b1
    return A1, sigmoid(A1) @ W2.T + b2
"""
        },
        "wrong-input",
    ),
    # -- two_layer_backward --------------------------------------------------------------------
    "backward_missing_sigmoid_derivative": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = dL_dA2 @ W2
    return dA1.T @ X, dA1.sum(axis=0), dL_dA2.T @ F1, dL_dA2.sum(axis=0)
"""
        },
        "missing-term",
    ),
    "backward_half_sigmoid_derivative": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = (dL_dA2 @ W2) * F1
    return dA1.T @ X, dA1.sum(axis=0), dL_dA2.T @ F1, dL_dA2.sum(axis=0)
"""
        },
        "missing-term",
    ),
    "backward_transposed_weights": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = (dL_dA2 @ W2.T) * F1 * (1 - F1)
    return dA1.T @ X, dA1.sum(axis=0), dL_dA2.T @ F1, dL_dA2.sum(axis=0)
"""
        },
        "transpose",
    ),
    "backward_bias_mean_over_batch": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = (dL_dA2 @ W2) * F1 * (1 - F1)
    return dA1.T @ X, dA1.mean(axis=0), dL_dA2.T @ F1, dL_dA2.mean(axis=0)
"""
        },
        "factor-R",
    ),
    "backward_weight_gradient_transposed": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = (dL_dA2 @ W2) * F1 * (1 - F1)
    return X.T @ dA1, dA1.sum(axis=0), F1.T @ dL_dA2, dL_dA2.sum(axis=0)
"""
        },
        "transpose",
    ),
    "backward_sigmoid_derivative_of_activation": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = (dL_dA2 @ W2) * sigmoid(F1) * (1 - sigmoid(F1))
    return dA1.T @ X, dA1.sum(axis=0), dL_dA2.T @ F1, dL_dA2.sum(axis=0)
"""
        },
        "wrong-input",
    ),
    "backward_output_weights_from_inputs": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = (dL_dA2 @ W2) * F1 * (1 - F1)
    return dA1.T @ X, dA1.sum(axis=0), dL_dA2.T @ F1, dL_dA2.sum(axis=0) * F1.mean()
"""
        },
        "wrong-input",
    ),
    "backward_hidden_bias_not_summed": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = (dL_dA2 @ W2) * F1 * (1 - F1)
    return dA1.T @ X, dA1, dL_dA2.T @ F1, dL_dA2.sum(axis=0)
"""
        },
        "axis",
    ),
    "backward_weights_mean_over_batch": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    R = len(X)
    dA1 = (dL_dA2 @ W2) * F1 * (1 - F1)
    return dA1.T @ X / R, dA1.sum(axis=0), dL_dA2.T @ F1 / R, dL_dA2.sum(axis=0)
"""
        },
        "factor-R",
    ),
    "backward_sign_of_hidden_layer": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = (dL_dA2 @ W2) * F1 * (F1 - 1)
    return dA1.T @ X, dA1.sum(axis=0), dL_dA2.T @ F1, dL_dA2.sum(axis=0)
"""
        },
        "sign",
    ),
    # -- train_two_layer -----------------------------------------------------------------------
    "train_gradient_ascent": Bug(
        "test_train_two_layer",
        {
            "train_two_layer": _train(
                update="W1, b1 = W1 + lr / R * dW1, b1 + lr / R * db1\n"
                "        W2, b2 = W2 + lr / R * dW2, b2 + lr / R * db2"
            )
        },
        "sign",
    ),
    "train_hidden_layer_frozen": Bug(
        "test_train_two_layer",
        {"train_two_layer": _train(update="W2, b2 = W2 - lr / R * dW2, b2 - lr / R * db2")},
        "missing-term",
    ),
    "train_zero_initialisation": Bug(
        "test_train_two_layer",
        {
            "train_two_layer": _train(
                init_W1="np.zeros((n_hidden, n))", init_W2="np.zeros((K, n_hidden))"
            )
        },
        "other",
    ),
    "train_step_not_divided_by_batch_size": Bug(
        "test_train_two_layer",
        {
            "train_two_layer": _train(
                update="W1, b1 = W1 - lr * dW1, b1 - lr * db1\n"
                "        W2, b2 = W2 - lr * dW2, b2 - lr * db2"
            )
        },
        "learning-rate-scale",
    ),
    "train_centres_the_callers_data_in_place": Bug(
        "test_train_two_layer",
        {
            "train_two_layer": """
def train_two_layer(X, y, n_hidden=8, lr=2.0, epochs=2000, seed=0):
    rng = np.random.default_rng(seed)
    X -= X.mean(axis=0)
    R, n = X.shape
    K = int(np.max(y)) + 1
    Y = one_hot(y, K)
    W1, b1 = rng.normal(size=(n_hidden, n)), np.zeros(n_hidden)
    W2, b2 = rng.normal(size=(K, n_hidden)), np.zeros(K)
    for _ in range(epochs):
        F1, A2 = two_layer_forward(X, W1, b1, W2, b2)
        dW1, db1, dW2, db2 = two_layer_backward(cross_entropy_gradient(A2, Y), X, F1, W2)
        W1, b1 = W1 - lr / R * dW1, b1 - lr / R * db1
        W2, b2 = W2 - lr / R * dW2, b2 - lr / R * db2
    return W1, b1, W2, b2
"""
        },
        "alias",
    ),
    "train_shuffles_inputs_but_not_labels": Bug(
        "test_train_two_layer",
        {
            "train_two_layer": """
def train_two_layer(X, y, n_hidden=8, lr=2.0, epochs=2000, seed=0):
    rng = np.random.default_rng(seed)
    R, n = X.shape
    K = int(np.max(y)) + 1
    Y = one_hot(y, K)
    W1, b1 = rng.normal(size=(n_hidden, n)), np.zeros(n_hidden)
    W2, b2 = rng.normal(size=(K, n_hidden)), np.zeros(K)
    for _ in range(epochs):
        Xs = X[rng.permutation(R)]
        F1, A2 = two_layer_forward(Xs, W1, b1, W2, b2)
        dW1, db1, dW2, db2 = two_layer_backward(cross_entropy_gradient(A2, Y), Xs, F1, W2)
        W1, b1 = W1 - lr / R * dW1, b1 - lr / R * db1
        W2, b2 = W2 - lr / R * dW2, b2 - lr / R * db2
    return W1, b1, W2, b2
"""
        },
        "shuffling",
    ),
    "train_rate_divided_by_batch_size_twice": Bug(
        "test_train_two_layer",
        {
            "train_two_layer": _train(
                update="W1, b1 = W1 - lr / R**2 * dW1, b1 - lr / R**2 * db1\n"
                "        W2, b2 = W2 - lr / R**2 * dW2, b2 - lr / R**2 * db2"
            )
        },
        "learning-rate-scale",
    ),
    # -- answer_zero_initialisation ------------------------------------------------------------
    "zero_init_says_learns_slower": Bug(
        "test_answer_zero_initialisation",
        {
            "answer_zero_initialisation": """
def answer_zero_initialisation():
    return "a"
"""
        },
        "other",
    ),
    "zero_init_says_units_die": Bug(
        "test_answer_zero_initialisation",
        {
            "answer_zero_initialisation": """
def answer_zero_initialisation():
    return "c"
"""
        },
        "other",
    ),
    "zero_init_says_weights_explode": Bug(
        "test_answer_zero_initialisation",
        {
            "answer_zero_initialisation": """
def answer_zero_initialisation():
    return "d"
"""
        },
        "other",
    ),
    # -- bugs from real students (issue 14, item 4) --------------------------------------------
    "softmax_cast_to_int": Bug(
        "test_softmax",
        {
            "softmax": """
def softmax(A):
    E = np.exp(A - A.max(axis=1, keepdims=True))
    return (E / E.sum(axis=1, keepdims=True)).astype(int)
"""
        },
        "integer-division",
    ),
    "softmax_max_without_keepdims": Bug(
        "test_softmax",
        {
            "softmax": """
def softmax(A):
    E = np.exp(A - np.max(A, axis=1))
    return E / np.sum(E, axis=1, keepdims=True)
"""
        },
        "broadcast",
    ),
    "softmax_shifts_callers_logits_in_place": Bug(
        "test_softmax",
        {
            "softmax": """
def softmax(A):
    A -= A.max(axis=1, keepdims=True)
    E = np.exp(A)
    return E / E.sum(axis=1, keepdims=True)
"""
        },
        "alias",
    ),
    "cross_entropy_matrix_product_of_labels": Bug(
        "test_cross_entropy",
        {
            "cross_entropy": """
def cross_entropy(A, Y):
    c = A.max(axis=1, keepdims=True)
    log_F = A - c - np.log(np.exp(A - c).sum(axis=1, keepdims=True))
    return float(-np.sum(Y @ log_F.T))
"""
        },
        "dot-vs-elementwise",
    ),
    "ce_gradient_softmax_over_batch": Bug(
        "test_cross_entropy_gradient",
        {
            "cross_entropy_gradient": """
def cross_entropy_gradient(A, Y):
    E = np.exp(A - A.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True) - Y
"""
        },
        "axis",
    ),
    "forward_bias_as_column": Bug(
        "test_two_layer_forward",
        {
            "two_layer_forward": """
def two_layer_forward(X, W1, b1, W2, b2):
    F1 = sigmoid(X @ W1.T + b1[:, None])
    return F1, F1 @ W2.T + b2
"""
        },
        "broadcast",
    ),
    "backward_output_bias_summed_over_classes": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = (dL_dA2 @ W2) * F1 * (1 - F1)
    return dA1.T @ X, dA1.sum(axis=0), dL_dA2.T @ F1, dL_dA2.sum(axis=1)
"""
        },
        "axis",
    ),
    "backward_hidden_weights_from_activations": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = (dL_dA2 @ W2) * F1 * (1 - F1)
    return dA1.T @ F1, dA1.sum(axis=0), dL_dA2.T @ F1, dL_dA2.sum(axis=0)
"""
        },
        "wrong-input",
    ),
    "backward_elementwise_product_with_W2": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = (dL_dA2 @ W2) * F1 * (1 - F1)
    dW2 = dL_dA2 * F1
    return dA1.T @ X, dA1.sum(axis=0), dW2, dL_dA2.sum(axis=0)
"""
        },
        "dot-vs-elementwise",
    ),
    "train_rate_floor_divided_by_batch_size": Bug(
        "test_train_two_layer",
        {
            "train_two_layer": _train(
                update="W1, b1 = W1 - lr // R * dW1, b1 - lr // R * db1\n"
                "        W2, b2 = W2 - lr // R * dW2, b2 - lr // R * db2"
            )
        },
        "integer-division",
    ),
    "train_hidden_bias_never_updated": Bug(
        "test_train_two_layer",
        {
            "train_two_layer": _train(
                update="W1 = W1 - lr / R * dW1\n"
                "        W2, b2 = W2 - lr / R * dW2, b2 - lr / R * db2"
            )
        },
        "missing-term",
    ),
    "train_shuffles_inputs_and_labels_apart": Bug(
        "test_train_two_layer",
        {
            "train_two_layer": """
def train_two_layer(X, y, n_hidden=8, lr=2.0, epochs=2000, seed=0):
    rng = np.random.default_rng(seed)
    R, n = X.shape
    K = int(np.max(y)) + 1
    W1, b1 = rng.normal(size=(n_hidden, n)), np.zeros(n_hidden)
    W2, b2 = rng.normal(size=(K, n_hidden)), np.zeros(K)
    for _ in range(epochs):
        Xs, Ys = X[rng.permutation(R)], one_hot(y[rng.permutation(R)], K)
        F1, A2 = two_layer_forward(Xs, W1, b1, W2, b2)
        dW1, db1, dW2, db2 = two_layer_backward(cross_entropy_gradient(A2, Ys), Xs, F1, W2)
        W1, b1 = W1 - lr / R * dW1, b1 - lr / R * db1
        W2, b2 = W2 - lr / R * dW2, b2 - lr / R * db2
    return W1, b1, W2, b2
"""
        },
        "shuffling",
    ),
    "backward_output_weights_from_network_input": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = (dL_dA2 @ W2) * F1 * (1 - F1)
    return dA1.T @ X, dA1.sum(axis=0), dL_dA2.T @ X, dL_dA2.sum(axis=0)
"""
        },
        "wrong-input",
    ),
    "backward_sigmoid_derivative_without_F1": Bug(
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = (dL_dA2 @ W2) * (1 - F1)
    return dA1.T @ X, dA1.sum(axis=0), dL_dA2.T @ F1, dL_dA2.sum(axis=0)
"""
        },
        "missing-term",
    ),
}

ALTERNATIVES: dict[str, dict[str, str]] = {
    "log_sum_exp_forms": {
        "softmax": """
def softmax(A):
    c = A.max(axis=1, keepdims=True)
    return np.exp(A - c - np.log(np.sum(np.exp(A - c), axis=1, keepdims=True)))
""",
        "cross_entropy": """
def cross_entropy(A, Y):
    log_sum_exp = np.logaddexp.reduce(A, axis=1, keepdims=True)
    return -np.sum(Y * (A - log_sum_exp))
""",
        "answer_initial_loss": """
def answer_initial_loss(R, K):
    return -R * np.log(1 / K)
""",
    },
    "python_loops": {
        "softmax": """
def softmax(A):
    R, K = A.shape
    top = A[:, 0].copy()
    for k in range(1, K):
        top = np.maximum(top, A[:, k])
    out = np.empty((R, K))
    for k in range(K):
        out[:, k] = np.exp(A[:, k] - top)
    total = np.zeros(R)
    for k in range(K):
        total += out[:, k]
    for k in range(K):
        out[:, k] /= total
    return out
""",
        "softmax_jacobian": """
def softmax_jacobian(A):
    out = []
    for a in A:
        f = softmax(a[None, :])[0]
        out.append(np.diag(f) - np.outer(f, f))
    return np.array(out)
""",
        "cross_entropy": """
def cross_entropy(A, Y):
    total = 0.0
    for a, label in zip(A, np.argmax(Y, axis=1)):
        c = a.max()
        total += c + np.log(np.sum(np.exp(a - c))) - a[label]
    return total
""",
        "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    n_hidden, n_classes = F1.shape[1], dL_dA2.shape[1]
    dW1, db1 = np.zeros((n_hidden, X.shape[1])), np.zeros(n_hidden)
    dW2, db2 = np.zeros((n_classes, n_hidden)), np.zeros(n_classes)
    for k in range(n_classes):
        dW2[k] = dL_dA2[:, k] @ F1
        db2[k] = np.sum(dL_dA2[:, k])
    for j in range(n_hidden):
        delta_j = (dL_dA2 @ W2[:, j]) * F1[:, j] * (1 - F1[:, j])
        dW1[j] = delta_j @ X
        db1[j] = np.sum(delta_j)
    return dW1, db1, dW2, db2
""",
        "answer_initial_loss": """
def answer_initial_loss(R, K):
    total = 0.0
    for _ in range(R):
        total -= np.log(1.0 / K)
    return total
""",
    },
    "einsum_everywhere": {
        "softmax_jacobian": """
def softmax_jacobian(A):
    F = softmax(A)
    K = A.shape[1]
    return np.einsum("ri,ij->rij", F, np.eye(K)) - np.einsum("ri,rj->rij", F, F)
""",
        "two_layer_forward": """
def two_layer_forward(X, W1, b1, W2, b2):
    F1 = 1 / (1 + np.exp(-(np.einsum("rn,mn->rm", X, W1) + b1)))
    return F1, np.einsum("rm,km->rk", F1, W2) + b2
""",
        "two_layer_backward": """
def two_layer_backward(dL_dA2, X, F1, W2):
    dA1 = np.einsum("rk,km->rm", dL_dA2, W2) * F1 * (1 - F1)
    return (np.einsum("rm,rn->mn", dA1, X), np.einsum("rm->m", dA1),
            np.einsum("rk,rm->km", dL_dA2, F1), np.einsum("rk->k", dL_dA2))
""",
    },
    "gradient_via_probabilities_and_tanh_sigmoid": {
        "cross_entropy_gradient": """
def cross_entropy_gradient(A, Y):
    P = np.exp(A - np.max(A, axis=-1, keepdims=True))
    P /= P.sum(axis=-1, keepdims=True)
    return P - Y
""",
        "two_layer_forward": """
def two_layer_forward(X, W1, b1, W2, b2):
    F1 = 0.5 * (1 + np.tanh(0.5 * (X @ W1.T + b1)))
    return F1, F1 @ W2.T + b2
""",
        "softmax": """
def softmax(A):
    A = A - A.max(axis=-1)[:, None]
    return np.exp(A) / np.exp(A).sum(axis=-1)[:, None]
""",
        "answer_zero_initialisation": """
def answer_zero_initialisation():
    return "B"
""",
    },
    "other_training_choices": {
        "train_two_layer": """
def train_two_layer(X, y, n_hidden=16, lr=1.0, epochs=300, seed=3):
    rng = np.random.default_rng(seed)
    R, n = X.shape
    K = int(np.max(y)) + 1
    Y = np.eye(K)[y]
    W1 = rng.normal(scale=2.0, size=(n_hidden, n))
    b1 = rng.normal(size=n_hidden)
    W2 = rng.normal(scale=0.5, size=(K, n_hidden))
    b2 = np.zeros(K)
    batch = 20
    for _ in range(epochs):
        order = rng.permutation(R)
        for start in range(0, R, batch):
            idx = order[start:start + batch]
            F1, A2 = two_layer_forward(X[idx], W1, b1, W2, b2)
            dA2 = cross_entropy_gradient(A2, Y[idx])
            dW1, db1, dW2, db2 = two_layer_backward(dA2, X[idx], F1, W2)
            W1 -= lr / len(idx) * dW1
            b1 -= lr / len(idx) * db1
            W2 -= lr / len(idx) * dW2
            b2 -= lr / len(idx) * db2
    return W1, b1, W2, b2
"""
    },
}
