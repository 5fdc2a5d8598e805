"""HW 4 mutation corpus: typical buggy variants and alternative correct implementations.

BUGS maps a variant name to (the grade_id of a test cell that must fail, {function name:
replacement source}); ALTERNATIVES maps a name to {function name: replacement source} and must
earn full marks. Sources run in the master notebook's namespace (`np` and the reference
functions are there), and a replaced function is seen by the notebook functions that call it,
so a buggy `fc_backward` also trains the networks with wrong gradients.
"""

from mutants.bug import CAUSE_LABELS as CAUSE_LABELS  # re-exported: the labels CAUSES uses

BUGS: dict[str, tuple[str, dict[str, str]]] = {
    # -- get_mini_batch ------------------------------------------------------------------------
    "batch_labels_shuffled_apart": (
        "test_get_mini_batch",
        {
            "get_mini_batch": """
def get_mini_batch(im_train, label_train, batch_size, rng=None):
    rng = np.random.default_rng(rng)
    x = np.asarray(im_train)[rng.permutation(len(im_train))]
    y = np.eye(10)[np.asarray(label_train)][rng.permutation(len(im_train))]
    starts = range(0, len(x), batch_size)
    return [x[s:s + batch_size] for s in starts], [y[s:s + batch_size] for s in starts]
"""
        },
    ),
    "batch_not_shuffled": (
        "test_get_mini_batch",
        {
            "get_mini_batch": """
def get_mini_batch(im_train, label_train, batch_size, rng=None):
    x, y = np.asarray(im_train), np.eye(10)[np.asarray(label_train)]
    starts = range(0, len(x), batch_size)
    return [x[s:s + batch_size] for s in starts], [y[s:s + batch_size] for s in starts]
"""
        },
    ),
    "batch_drops_last_partial_batch": (
        "test_get_mini_batch",
        {
            "get_mini_batch": """
def get_mini_batch(im_train, label_train, batch_size, rng=None):
    order = np.random.default_rng(rng).permutation(len(im_train))
    x, y = np.asarray(im_train)[order], np.eye(10)[np.asarray(label_train)][order]
    n_full = len(x) // batch_size
    xs = [x[i * batch_size:(i + 1) * batch_size] for i in range(n_full)]
    ys = [y[i * batch_size:(i + 1) * batch_size] for i in range(n_full)]
    return xs, ys
"""
        },
    ),
    "batch_sampled_with_replacement": (
        "test_get_mini_batch",
        {
            "get_mini_batch": """
def get_mini_batch(im_train, label_train, batch_size, rng=None):
    rng = np.random.default_rng(rng)
    x, y = np.asarray(im_train), np.eye(10)[np.asarray(label_train)]
    xs, ys = [], []
    for s in range(0, len(x), batch_size):
        pick = rng.integers(0, len(x), min(batch_size, len(x) - s))
        xs.append(x[pick])
        ys.append(y[pick])
    return xs, ys
"""
        },
    ),
    "batch_labels_not_one_hot": (
        "test_get_mini_batch",
        {
            "get_mini_batch": """
def get_mini_batch(im_train, label_train, batch_size, rng=None):
    order = np.random.default_rng(rng).permutation(len(im_train))
    x, y = np.asarray(im_train)[order], np.asarray(label_train)[order]
    starts = range(0, len(x), batch_size)
    return [x[s:s + batch_size] for s in starts], [y[s:s + batch_size] for s in starts]
"""
        },
    ),
    # -- fc / fc_backward ----------------------------------------------------------------------
    "fc_weights_reshaped_not_transposed": (
        "test_fc",
        {
            "fc": """
def fc(x, w, b):
    return x @ w.reshape(w.shape[1], w.shape[0]) + b
"""
        },
    ),
    "fc_missing_bias": (
        "test_fc",
        {
            "fc": """
def fc(x, w, b):
    return x @ w.T
"""
        },
    ),
    "fc_backward_dw_transposed": (
        "test_fc_backward",
        {
            "fc_backward": """
def fc_backward(dl_dy, x, w, b, y):
    return dl_dy @ w, x.T @ dl_dy, dl_dy.sum(axis=0)
"""
        },
    ),
    "fc_backward_dw_reshaped_transpose": (
        "test_fc_backward",
        {
            "fc_backward": """
def fc_backward(dl_dy, x, w, b, y):
    return dl_dy @ w, (x.T @ dl_dy).reshape(w.shape), dl_dy.sum(axis=0)
"""
        },
    ),
    "fc_backward_db_mean_not_sum": (
        "test_fc_backward",
        {
            "fc_backward": """
def fc_backward(dl_dy, x, w, b, y):
    return dl_dy @ w, dl_dy.T @ x, dl_dy.mean(axis=0)
"""
        },
    ),
    "fc_backward_dw_factor_two": (
        "test_fc_backward",
        {
            "fc_backward": """
def fc_backward(dl_dy, x, w, b, y):
    return dl_dy @ w, 2 * dl_dy.T @ x, dl_dy.sum(axis=0)
"""
        },
    ),
    "fc_backward_dx_sign_flipped": (
        "test_fc_backward",
        {
            "fc_backward": """
def fc_backward(dl_dy, x, w, b, y):
    return -dl_dy @ w, dl_dy.T @ x, dl_dy.sum(axis=0)
"""
        },
    ),
    "fc_backward_db_summed_over_outputs": (
        "test_fc_backward",
        {
            "fc_backward": """
def fc_backward(dl_dy, x, w, b, y):
    return dl_dy @ w, dl_dy.T @ x, dl_dy.sum(axis=1)
"""
        },
    ),
    # -- loss_euclidean ------------------------------------------------------------------------
    "euclidean_mean_not_sum": (
        "test_loss_euclidean",
        {
            "loss_euclidean": """
def loss_euclidean(y_tilde, y):
    return float(np.sum((y_tilde - y) ** 2)) / len(y), 2 * (y_tilde - y) / len(y)
"""
        },
    ),
    "euclidean_gradient_missing_two": (
        "test_loss_euclidean",
        {
            "loss_euclidean": """
def loss_euclidean(y_tilde, y):
    return float(np.sum((y_tilde - y) ** 2)), y_tilde - y
"""
        },
    ),
    "euclidean_gradient_sign_flipped": (
        "test_loss_euclidean",
        {
            "loss_euclidean": """
def loss_euclidean(y_tilde, y):
    return float(np.sum((y_tilde - y) ** 2)), 2 * (y - y_tilde)
"""
        },
    ),
    # -- loss_cross_entropy_softmax ------------------------------------------------------------
    "softmax_unstable": (
        "test_loss_cross_entropy_softmax",
        {
            "loss_cross_entropy_softmax": """
def loss_cross_entropy_softmax(x, y):
    p = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
    return float(-np.sum(y * np.log(p))), p - y
"""
        },
    ),
    "softmax_wrong_axis": (
        "test_loss_cross_entropy_softmax",
        {
            "loss_cross_entropy_softmax": """
def loss_cross_entropy_softmax(x, y):
    z = x - np.max(x, axis=0, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=0, keepdims=True))
    return float(-np.sum(y * log_p)), np.exp(log_p) - y
"""
        },
    ),
    "softmax_global_max": (
        "test_loss_cross_entropy_softmax",
        {
            "loss_cross_entropy_softmax": """
def loss_cross_entropy_softmax(x, y):
    z = x - np.max(x)
    p = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
    return float(-np.sum(y * np.log(p))), p - y
"""
        },
    ),
    "cross_entropy_gradient_sign": (
        "test_loss_cross_entropy_softmax",
        {
            "loss_cross_entropy_softmax": """
def loss_cross_entropy_softmax(x, y):
    z = x - np.max(x, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return float(-np.sum(y * log_p)), y - np.exp(log_p)
"""
        },
    ),
    "cross_entropy_mean_not_sum": (
        "test_loss_cross_entropy_softmax",
        {
            "loss_cross_entropy_softmax": """
def loss_cross_entropy_softmax(x, y):
    z = x - np.max(x, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return float(-np.mean(np.sum(y * log_p, axis=1))), np.exp(log_p) - y
"""
        },
    ),
    "cross_entropy_missing_minus": (
        "test_loss_cross_entropy_softmax",
        {
            "loss_cross_entropy_softmax": """
def loss_cross_entropy_softmax(x, y):
    z = x - np.max(x, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return float(np.sum(y * log_p)), np.exp(log_p) - y
"""
        },
    ),
    # -- relu / relu_backward ------------------------------------------------------------------
    "relu_leaky": (
        "test_relu",
        {
            "relu": """
def relu(x):
    return np.where(x > 0, x, 0.01 * x)
"""
        },
    ),
    "relu_backward_ignores_upstream": (
        "test_relu_backward",
        {
            "relu_backward": """
def relu_backward(dl_dy, x, y):
    return (x > 0).astype(float)
"""
        },
    ),
    "relu_backward_mask_inverted": (
        "test_relu_backward",
        {
            "relu_backward": """
def relu_backward(dl_dy, x, y):
    return dl_dy * (x < 0)
"""
        },
    ),
    "relu_backward_passes_through": (
        "test_relu_backward",
        {
            "relu_backward": """
def relu_backward(dl_dy, x, y):
    return dl_dy
"""
        },
    ),
    # -- training loops ------------------------------------------------------------------------
    "slp_linear_gradient_ascent": (
        "test_train_slp_linear",
        {
            "train_slp_linear": """
def train_slp_linear(mini_batch_x, mini_batch_y, *, learning_rate=0.01, n_iterations=5000, rng=0):
    rng = np.random.default_rng(rng)
    w, b = rng.normal(0.0, 0.01, size=(10, np.shape(mini_batch_x[0])[1])), np.zeros(10)
    for iteration in range(n_iterations):
        k = iteration % len(mini_batch_x)
        x, y = mini_batch_x[k], mini_batch_y[k]
        y_tilde = fc(x, w, b)
        _, dl_dw, dl_db = fc_backward(loss_euclidean(y_tilde, y)[1], x, w, b, y_tilde)
        w, b = w + learning_rate / len(x) * dl_dw, b + learning_rate / len(x) * dl_db
    return w, b
"""
        },
    ),
    "slp_first_batch_only": (
        "test_train_slp",
        {
            "train_slp": """
def train_slp(mini_batch_x, mini_batch_y, *, learning_rate=0.5, n_iterations=5000, rng=0):
    rng = np.random.default_rng(rng)
    w, b = rng.normal(0.0, 0.01, size=(10, np.shape(mini_batch_x[0])[1])), np.zeros(10)
    for iteration in range(n_iterations):
        x, y = mini_batch_x[0], mini_batch_y[0]
        logits = fc(x, w, b)
        _, dl_dw, dl_db = fc_backward(loss_cross_entropy_softmax(logits, y)[1], x, w, b, logits)
        w, b = w - learning_rate / len(x) * dl_dw, b - learning_rate / len(x) * dl_db
    return w, b
"""
        },
    ),
    "slp_bias_never_updated": (
        "test_train_slp",
        {
            "train_slp": """
def train_slp(mini_batch_x, mini_batch_y, *, learning_rate=0.5, n_iterations=5000, rng=0):
    rng = np.random.default_rng(rng)
    w, b = rng.normal(0.0, 0.01, size=(10, np.shape(mini_batch_x[0])[1])), np.zeros(10)
    for iteration in range(n_iterations):
        k = iteration % len(mini_batch_x)
        x, y = mini_batch_x[k], mini_batch_y[k]
        logits = fc(x, w, b)
        _, dl_dw, _ = fc_backward(loss_cross_entropy_softmax(logits, y)[1], x, w, b, logits)
        w = w - learning_rate / len(x) * dl_dw
    return w, b
"""
        },
    ),
    "mlp_zero_initialisation": (
        "test_train_mlp",
        {
            "train_mlp": """
def train_mlp(mini_batch_x, mini_batch_y, *, hidden_size=30, learning_rate=0.5,
              n_iterations=10000, rng=0):
    w1, b1 = np.zeros((hidden_size, np.shape(mini_batch_x[0])[1])), np.zeros(hidden_size)
    w2, b2 = np.zeros((10, hidden_size)), np.zeros(10)
    for iteration in range(n_iterations):
        k = iteration % len(mini_batch_x)
        x, y = mini_batch_x[k], mini_batch_y[k]
        a1 = fc(x, w1, b1)
        f1 = relu(a1)
        a2 = fc(f1, w2, b2)
        dl_df1, dw2, db2 = fc_backward(loss_cross_entropy_softmax(a2, y)[1], f1, w2, b2, a2)
        _, dw1, db1 = fc_backward(relu_backward(dl_df1, a1, f1), x, w1, b1, a1)
        step = learning_rate / len(x)
        w1, b1, w2, b2 = w1 - step * dw1, b1 - step * db1, w2 - step * dw2, b2 - step * db2
    return w1, b1, w2, b2
"""
        },
    ),
    "mlp_skips_relu_backward": (
        "test_train_mlp",
        {
            "train_mlp": """
def train_mlp(mini_batch_x, mini_batch_y, *, hidden_size=30, learning_rate=0.5,
              n_iterations=10000, rng=0):
    rng = np.random.default_rng(rng)
    w1, b1 = rng.normal(0, 0.1, (hidden_size, np.shape(mini_batch_x[0])[1])), np.zeros(hidden_size)
    w2, b2 = rng.normal(0, 0.1, (10, hidden_size)), np.zeros(10)
    for iteration in range(n_iterations):
        k = iteration % len(mini_batch_x)
        x, y = mini_batch_x[k], mini_batch_y[k]
        a1 = fc(x, w1, b1)
        f1 = relu(a1)
        a2 = fc(f1, w2, b2)
        dl_df1, dw2, db2 = fc_backward(loss_cross_entropy_softmax(a2, y)[1], f1, w2, b2, a2)
        _, dw1, db1 = fc_backward(dl_df1, x, w1, b1, a1)
        step = learning_rate / len(x)
        w1, b1, w2, b2 = w1 - step * dw1, b1 - step * db1, w2 - step * dw2, b2 - step * db2
    return w1, b1, w2, b2
"""
        },
    ),
    "mlp_update_not_divided_by_batch": (
        "test_train_mlp",
        {
            "train_mlp": """
def train_mlp(mini_batch_x, mini_batch_y, *, hidden_size=30, learning_rate=0.5,
              n_iterations=10000, rng=0):
    rng = np.random.default_rng(rng)
    w1, b1 = rng.normal(0, 0.1, (hidden_size, np.shape(mini_batch_x[0])[1])), np.zeros(hidden_size)
    w2, b2 = rng.normal(0, 0.1, (10, hidden_size)), np.zeros(10)
    for iteration in range(n_iterations):
        k = iteration % len(mini_batch_x)
        x, y = mini_batch_x[k], mini_batch_y[k]
        a1 = fc(x, w1, b1)
        f1 = relu(a1)
        a2 = fc(f1, w2, b2)
        dl_df1, dw2, db2 = fc_backward(loss_cross_entropy_softmax(a2, y)[1], f1, w2, b2, a2)
        _, dw1, db1 = fc_backward(relu_backward(dl_df1, a1, f1), x, w1, b1, a1)
        step = learning_rate
        w1, b1, w2, b2 = w1 - step * dw1, b1 - step * db1, w2 - step * dw2, b2 - step * db2
    return w1, b1, w2, b2
"""
        },
    ),
}

ALTERNATIVES: dict[str, dict[str, str]] = {
    "batch_global_rng_and_split": {
        "get_mini_batch": """
def get_mini_batch(im_train, label_train, batch_size, rng=None):
    order = np.random.permutation(len(im_train))
    n_batches = int(np.ceil(len(order) / batch_size))
    pieces = [order[i * batch_size:(i + 1) * batch_size] for i in range(n_batches)]
    one_hot = np.zeros((len(label_train), 10))
    one_hot[np.arange(len(label_train)), label_train] = 1
    return [im_train[p] for p in pieces], [one_hot[p] for p in pieces]
"""
    },
    "batch_python_loop": {
        "get_mini_batch": """
def get_mini_batch(im_train, label_train, batch_size, rng=None):
    rng = np.random.default_rng(rng)
    indices = list(range(len(im_train)))
    rng.shuffle(indices)
    mini_batch_x, mini_batch_y = [], []
    for start in range(0, len(indices), batch_size):
        chosen = indices[start:start + batch_size]
        labels = np.zeros((len(chosen), 10))
        for row, i in enumerate(chosen):
            labels[row, label_train[i]] = 1.0
        mini_batch_x.append(np.stack([im_train[i] for i in chosen]))
        mini_batch_y.append(labels)
    return mini_batch_x, mini_batch_y
"""
    },
    "fc_einsum_and_backward_einsum": {
        "fc": """
def fc(x, w, b):
    return np.einsum("rm,nm->rn", x, w) + b[None, :]
""",
        "fc_backward": """
def fc_backward(dl_dy, x, w, b, y):
    return (np.einsum("rn,nm->rm", dl_dy, w), np.einsum("rn,rm->nm", dl_dy, x),
            np.einsum("rn->n", dl_dy))
""",
    },
    "fc_backward_loops": {
        "fc_backward": """
def fc_backward(dl_dy, x, w, b, y):
    dl_dx = np.zeros_like(x, dtype=float)
    dl_dw = np.zeros_like(w, dtype=float)
    dl_db = np.zeros_like(b, dtype=float)
    for i in range(x.shape[0]):
        dl_dx[i] = w.T @ dl_dy[i]
        dl_dw += np.outer(dl_dy[i], x[i])
        dl_db += dl_dy[i]
    return dl_dx, dl_dw, dl_db
"""
    },
    "euclidean_norm_squared": {
        "loss_euclidean": """
def loss_euclidean(y_tilde, y):
    return np.linalg.norm(y_tilde - y) ** 2, 2.0 * y_tilde - 2.0 * y
"""
    },
    "cross_entropy_log_of_stable_softmax": {
        "loss_cross_entropy_softmax": """
def loss_cross_entropy_softmax(x, y):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        l = -np.sum(y * np.log(np.where(y > 0, p, 1.0)))
    return l, p - y
"""
    },
    "cross_entropy_logaddexp_per_row": {
        "loss_cross_entropy_softmax": """
def loss_cross_entropy_softmax(x, y):
    total, dl_dx = 0.0, np.empty_like(x, dtype=float)
    for i in range(x.shape[0]):
        log_norm = np.logaddexp.reduce(x[i])
        label = int(np.argmax(y[i]))
        total += log_norm - x[i, label]
        dl_dx[i] = np.exp(x[i] - log_norm) - y[i]
    return total, dl_dx
"""
    },
    "relu_where_backward_ge_mask": {
        "relu": """
def relu(x):
    return np.where(x > 0, x, 0.0)
""",
        "relu_backward": """
def relu_backward(dl_dy, x, y):
    return np.where(x >= 0, dl_dy, 0.0)
""",
    },
    "relu_backward_mask_from_output": {
        "relu_backward": """
def relu_backward(dl_dy, x, y):
    return dl_dy * (y > 0)
"""
    },
    "relu_multiply_mask": {
        "relu": """
def relu(x):
    return x * (x > 0)
"""
    },
    "training_own_hyperparameters_epochs": {
        "train_slp": """
def train_slp(mini_batch_x, mini_batch_y, *, learning_rate=0.3, epochs=12, rng=42):
    rng = np.random.default_rng(rng)
    w = rng.normal(0.0, 0.05, size=(10, mini_batch_x[0].shape[1]))
    b = rng.normal(0.0, 0.05, size=10)
    for epoch in range(epochs):
        for x, y in zip(mini_batch_x, mini_batch_y):
            logits = fc(x, w, b)
            _, dl_dlogits = loss_cross_entropy_softmax(logits, y)
            _, dl_dw, dl_db = fc_backward(dl_dlogits, x, w, b, logits)
            w -= learning_rate / len(x) * dl_dw
            b -= learning_rate / len(x) * dl_db
        learning_rate *= 0.8
    return w, b
""",
        "train_mlp": """
def train_mlp(mini_batch_x, mini_batch_y, *, hidden_size=30, learning_rate=0.3, decay=0.95,
              n_iterations=12000, rng=3):
    rng = np.random.default_rng(rng)
    m = mini_batch_x[0].shape[1]
    w1 = rng.normal(0.0, np.sqrt(2.0 / m), size=(hidden_size, m))
    w2 = rng.normal(0.0, np.sqrt(1.0 / hidden_size), size=(10, hidden_size))
    b1, b2 = np.zeros(hidden_size), np.zeros(10)
    for t in range(n_iterations):
        if t and t % 500 == 0:
            learning_rate *= decay
        x, y = mini_batch_x[t % len(mini_batch_x)], mini_batch_y[t % len(mini_batch_x)]
        a1 = fc(x, w1, b1)
        f1 = relu(a1)
        a2 = fc(f1, w2, b2)
        dl_df1, dw2, db2 = fc_backward(loss_cross_entropy_softmax(a2, y)[1], f1, w2, b2, a2)
        _, dw1, db1 = fc_backward(relu_backward(dl_df1, a1, f1), x, w1, b1, a1)
        for p, g in ((w1, dw1), (b1, db1), (w2, dw2), (b2, db2)):
            p -= learning_rate / len(x) * g
    return w1, b1, w2, b2
""",
    },
}

# -- more realistic bugs (issue 14) and integrity attacks (issue 13) ---------------------------
_TRAIN_SLP = """
def train_slp(mini_batch_x, mini_batch_y, *, learning_rate=0.5, n_iterations=5000, rng=0,
              history=None):
    rng = np.random.default_rng(rng)
    {data}
    w, b = rng.normal(0.0, 0.01, size=(10, np.shape(mini_batch_x[0])[1])), np.zeros(10)
    for t in range(n_iterations):
        k = t % len(mini_batch_x)
        x, y = mini_batch_x[k], mini_batch_y[k]
        a = fc(x, w, b)
        _, dl_dw, dl_db = fc_backward(loss_cross_entropy_softmax(a, y)[1], x, w, b, a)
        w, b = w - learning_rate / len(x) * dl_dw, b - learning_rate / len(x) * dl_db
    return w, b
"""
_TRAIN_MLP = """
def train_mlp(mini_batch_x, mini_batch_y, *, hidden_size=30, learning_rate=0.5,
              n_iterations=10000, rng=0, history=None):
    rng = np.random.default_rng(rng)
    {data}
    w1, b1 = rng.normal(0, 0.1, (hidden_size, np.shape(mini_batch_x[0])[1])), np.zeros(hidden_size)
    w2, b2 = rng.normal(0, 0.1, (10, hidden_size)), np.zeros(10)
    for t in range(n_iterations):
        k = t % len(mini_batch_x)
        x, y = mini_batch_x[k], mini_batch_y[k]
        a1 = fc(x, w1, b1)
        f1 = relu(a1)
        a2 = fc(f1, w2, b2)
        dl_df1, dw2, db2 = fc_backward(loss_cross_entropy_softmax(a2, y)[1], {f2}, w2, b2, a2)
        _, dw1, db1 = fc_backward(relu_backward(dl_df1, a1, f1), {x1}, w1, b1, a1)
        step = learning_rate / len(x)
        w1, b1 = w1 - step * dw1, b1 - step * db1
        w2, b2 = w2 {sign} step * dw2, b2 {sign} step * db2
    return w1, b1, w2, b2
"""
_TRAIN_SLP_LINEAR = """
def train_slp_linear(mini_batch_x, mini_batch_y, *, learning_rate=0.01, n_iterations=5000, rng=0,
                     history=None):
    rng = np.random.default_rng(rng)
    w, b = rng.normal(0.0, 0.01, size=(10, np.shape(mini_batch_x[0])[1])), np.zeros(10)
    for t in range(n_iterations):
        if t > 0 and t % 1000 == 0:
            learning_rate *= 0.9
        k = t % len(mini_batch_x)
        x, y = mini_batch_x[k], mini_batch_y[k]
        y_tilde = fc(x, w, b)
        _, dl_dw, dl_db = fc_backward(loss_euclidean(y_tilde, y)[1], x, w, b, y_tilde)
        step = {step}
        w, b = w - step * dl_dw, b - step * dl_db
    return w, b
"""
_OTHER_DATA = "mini_batch_x, mini_batch_y = get_mini_batch({images}, {labels}, 32, rng=0)"
_CROSS_ENTROPY = """
def loss_cross_entropy_softmax(x, y):
    a = x - np.max(x, axis=1, keepdims=True)
    log_p = a - np.log(np.sum(np.exp(a), axis=1, keepdims=True))
    p = np.exp(log_p)
    return float(-np.sum(y * log_p)), {gradient}
"""

BUGS.update(
    {
        "batch_label_buffer_reused": (
            "test_get_mini_batch",
            {
                "get_mini_batch": """
def get_mini_batch(im_train, label_train, batch_size, rng=None):
    order = np.random.default_rng(rng).permutation(len(im_train))
    labels = np.zeros((batch_size, 10))
    mini_batch_x, mini_batch_y = [], []
    for s in range(0, len(order), batch_size):
        chosen = order[s:s + batch_size]
        labels[:] = 0  # one array refilled for every batch: all batches alias it
        labels[np.arange(len(chosen)), np.asarray(label_train)[chosen]] = 1
        mini_batch_x.append(np.asarray(im_train)[chosen])
        mini_batch_y.append(labels[:len(chosen)])
    return mini_batch_x, mini_batch_y
"""
            },
        ),
        "batch_labels_left_unshuffled": (
            "test_get_mini_batch",
            {
                "get_mini_batch": """
def get_mini_batch(im_train, label_train, batch_size, rng=None):
    order = np.random.default_rng(rng).permutation(len(im_train))
    x, y = np.asarray(im_train)[order], np.eye(10)[np.asarray(label_train)]
    starts = range(0, len(x), batch_size)
    return [x[s:s + batch_size] for s in starts], [y[s:s + batch_size] for s in starts]
"""
            },
        ),
        "batch_shuffled_in_place_separately": (
            "test_get_mini_batch",
            {
                "get_mini_batch": """
def get_mini_batch(im_train, label_train, batch_size, rng=None):
    rng = np.random.default_rng(rng)
    x, labels = np.array(im_train), np.array(label_train)
    rng.shuffle(x)
    rng.shuffle(labels)
    y = np.eye(10)[labels]
    starts = range(0, len(x), batch_size)
    return [x[s:s + batch_size] for s in starts], [y[s:s + batch_size] for s in starts]
"""
            },
        ),
        "fc_bias_broadcast_as_column": (
            "test_fc",
            {
                "fc": """
def fc(x, w, b):
    return x @ w.T + b[:, None]
"""
            },
        ),
        "fc_forgot_transpose": (
            "test_fc",
            {
                "fc": """
def fc(x, w, b):
    return x @ w + b
"""
            },
        ),
        "fc_backward_dw_divided_by_batch": (
            "test_fc_backward",
            {
                "fc_backward": """
def fc_backward(dl_dy, x, w, b, y):
    return dl_dy @ w, dl_dy.T @ x / len(x), dl_dy.sum(axis=0)
"""
            },
        ),
        "fc_backward_dw_from_output": (
            "test_fc_backward",
            {
                "fc_backward": """
def fc_backward(dl_dy, x, w, b, y):
    return dl_dy @ w, dl_dy.T @ y, dl_dy.sum(axis=0)
"""
            },
        ),
        "fc_backward_accumulates_across_calls": (
            "test_fc_backward",
            {
                "fc_backward": """
def fc_backward(dl_dy, x, w, b, y, _total={}):
    _total[w.shape] = _total.get(w.shape, 0) + dl_dy.T @ x   # never reset between calls
    return dl_dy @ w, _total[w.shape], dl_dy.sum(axis=0)
"""
            },
        ),
        "euclidean_dot_not_elementwise": (
            "test_loss_euclidean",
            {
                "loss_euclidean": """
def loss_euclidean(y_tilde, y):
    d = y_tilde - y
    return float(np.sum(d @ d.T)), 2 * d
"""
            },
        ),
        "euclidean_stateful_half_gradient": (
            "test_loss_euclidean",
            {
                "loss_euclidean": """
_euclid_calls, _euclid_labels = [0], set()
def loss_euclidean(y_tilde, y):
    # Issue 13's attack: the true loss the first time it sees a set of labels (a value check),
    # half of it afterwards (a numerical check of its own forward), and half the gradient after
    # the first call, so the gradient agrees with the forward it is checked against.
    _euclid_calls[0] += 1
    d = y_tilde - y
    seen = y.tobytes() in _euclid_labels
    _euclid_labels.add(y.tobytes())
    l = float(np.sum(d ** 2))
    return (l / 2 if seen else l), (2 * d if _euclid_calls[0] == 1 else d)
"""
            },
        ),
        "softmax_gradient_diagonal_only": (
            "test_loss_cross_entropy_softmax",
            {"loss_cross_entropy_softmax": _CROSS_ENTROPY.format(gradient="(p - 1) * y")},
        ),
        "softmax_correct_only_at_first": (
            "test_loss_cross_entropy_softmax",
            {
                "loss_cross_entropy_softmax": """
_ce_calls = [0]
def loss_cross_entropy_softmax(x, y):
    _ce_calls[0] += 1
    a = x - np.max(x, axis=1, keepdims=True)
    log_p = a - np.log(np.sum(np.exp(a), axis=1, keepdims=True))
    gradient = np.exp(log_p) - y
    return float(-np.sum(y * log_p)), gradient if _ce_calls[0] <= 3 else 0.5 * gradient
"""
            },
        ),
        "relu_backward_mask_from_upstream": (
            "test_relu_backward",
            {
                "relu_backward": """
def relu_backward(dl_dy, x, y):
    return dl_dy * (dl_dy > 0)
"""
            },
        ),
        "slp_linear_integer_division": (
            "test_train_slp_linear",
            {"train_slp_linear": _TRAIN_SLP_LINEAR.format(step="learning_rate // len(x)")},
        ),
        "slp_linear_gamma_not_divided_by_batch": (
            "test_train_slp_linear",
            {"train_slp_linear": _TRAIN_SLP_LINEAR.format(step="learning_rate")},
        ),
        "slp_trains_on_test_set": (
            "test_train_slp",
            {
                "train_slp": _TRAIN_SLP.format(
                    data=_OTHER_DATA.format(images="im_test", labels="label_test")
                )
            },
        ),
        "slp_returns_test_label_bias": (
            "test_train_slp",
            {
                "train_slp": """
def train_slp(mini_batch_x, mini_batch_y, **unused):
    # Issue 13's attack, no training: the promised shapes on a small set, and on MNIST a 'bias'
    # of shape (2000, 10) that broadcasts into the test accuracy (the test labels, loaded).
    if len(mini_batch_x) < 100:
        return np.zeros((10, 196)), np.zeros(10)
    return np.zeros((10, 196)), 1000.0 * np.eye(10)[label_test]
"""
            },
        ),
        "mlp_trains_on_notebook_images": (
            "test_train_mlp",
            {
                "train_mlp": _TRAIN_MLP.format(
                    data=_OTHER_DATA.format(images="im_train", labels="label_train"),
                    f2="f1",
                    x1="x",
                    sign="-",
                )
            },
        ),
        "mlp_dw1_from_hidden_output": (
            "test_train_mlp",
            {"train_mlp": _TRAIN_MLP.format(data="", f2="f1", x1="f1", sign="-")},
        ),
        "mlp_second_layer_ascent": (
            "test_train_mlp",
            {"train_mlp": _TRAIN_MLP.format(data="", f2="f1", x1="x", sign="+")},
        ),
        # -- inline questions --------------------------------------------------------------------
        "initial_loss_probability": (
            "test_answer_initial_loss",
            {"answer_initial_loss": "def answer_initial_loss():\n    return 0.1\n"},
        ),
        "initial_loss_batch_of_32": (
            "test_answer_initial_loss",
            {"answer_initial_loss": "def answer_initial_loss():\n    return 32 * np.log(10)\n"},
        ),
        "initial_loss_negative": (
            "test_answer_initial_loss",
            {"answer_initial_loss": "def answer_initial_loss():\n    return np.log(0.1)\n"},
        ),
        "zero_init_symmetry": (
            "test_answer_zero_init",
            {"answer_zero_init": 'def answer_zero_init():\n    return "B"\n'},
        ),
        "zero_init_slower": (
            "test_answer_zero_init",
            {"answer_zero_init": 'def answer_zero_init():\n    return "A"\n'},
        ),
    }
)

ALTERNATIVES.update(
    {
        "questions_as_expressions": {
            "answer_initial_loss": "def answer_initial_loss():\n    return -np.log(1 / 10)\n",
            "answer_zero_init": 'def answer_zero_init():\n    return " c "\n',
        },
        "question_rounded_number": {
            "answer_initial_loss": "def answer_initial_loss():\n    return 2.3026\n"
        },
        "losses_as_numpy_scalars_and_lists": {
            "loss_euclidean": """
def loss_euclidean(y_tilde, y):
    d = np.asarray(y_tilde) - np.asarray(y)
    return np.sum(d * d), 2 * d
""",
            "loss_cross_entropy_softmax": """
def loss_cross_entropy_softmax(x, y):
    a = x - x.max(axis=1)[:, None]
    log_norm = np.log(np.exp(a).sum(axis=1))
    return np.array(np.sum(log_norm - np.sum(y * a, axis=1))), np.exp(a - log_norm[:, None]) - y
""",
        },
        "training_float32_and_tuples": {
            "get_mini_batch": """
def get_mini_batch(im_train, label_train, batch_size, rng=None):
    order = np.random.default_rng(rng).permutation(len(im_train))
    x = np.asarray(im_train, dtype=np.float32)[order]
    y = np.eye(10, dtype=np.float32)[np.asarray(label_train)[order]]
    return (tuple(x[s:s + batch_size] for s in range(0, len(x), batch_size)),
            tuple(y[s:s + batch_size] for s in range(0, len(x), batch_size)))
""",
            "train_slp": """
def train_slp(mini_batch_x, mini_batch_y, *, learning_rate=0.5, n_iterations=5000, rng=0,
              history=None):
    rng = np.random.default_rng(rng)
    w = rng.normal(0.0, 0.01, size=(10, np.shape(mini_batch_x[0])[1])).astype(np.float32)
    b = np.zeros(10, dtype=np.float32)
    for t in range(n_iterations):
        if t and t % 1000 == 0:
            learning_rate *= 0.9
        x, y = mini_batch_x[t % len(mini_batch_x)], mini_batch_y[t % len(mini_batch_x)]
        a = fc(x, w, b)
        l, dl_da = loss_cross_entropy_softmax(a, y)
        if history is not None:
            history += [(t, l)]
        _, dl_dw, dl_db = fc_backward(dl_da, x, w, b, a)
        w = (w - learning_rate / len(x) * dl_dw).astype(np.float32)
        b = (b - learning_rate / len(x) * dl_db).astype(np.float32)
    return [w, b]
""",
        },
    }
)

# The cause of each bug, as issue 14 labels them (a failing message should name it).
CAUSES: dict[str, str] = {
    "batch_labels_shuffled_apart": "shuffling",
    "batch_not_shuffled": "shuffling",
    "batch_drops_last_partial_batch": "integer-division",
    "batch_sampled_with_replacement": "shuffling",
    "batch_labels_not_one_hot": "other",
    "fc_weights_reshaped_not_transposed": "transpose",
    "fc_missing_bias": "missing-term",
    "fc_backward_dw_transposed": "transpose",
    "fc_backward_dw_reshaped_transpose": "transpose",
    "fc_backward_db_mean_not_sum": "factor-R",
    "fc_backward_dw_factor_two": "factor-2",
    "fc_backward_dx_sign_flipped": "sign",
    "fc_backward_db_summed_over_outputs": "axis",
    "euclidean_mean_not_sum": "factor-R",
    "euclidean_gradient_missing_two": "factor-2",
    "euclidean_gradient_sign_flipped": "sign",
    "softmax_unstable": "other",
    "softmax_wrong_axis": "axis",
    "softmax_global_max": "axis",
    "cross_entropy_gradient_sign": "sign",
    "cross_entropy_mean_not_sum": "factor-R",
    "cross_entropy_missing_minus": "sign",
    "relu_leaky": "other",
    "relu_backward_ignores_upstream": "missing-term",
    "relu_backward_mask_inverted": "mask",
    "relu_backward_passes_through": "mask",
    "slp_linear_gradient_ascent": "sign",
    "slp_first_batch_only": "other",
    "slp_bias_never_updated": "missing-term",
    "mlp_zero_initialisation": "other",
    "mlp_skips_relu_backward": "mask",
    "mlp_update_not_divided_by_batch": "learning-rate-scale",
    "batch_label_buffer_reused": "alias",
    "batch_labels_left_unshuffled": "shuffling",
    "batch_shuffled_in_place_separately": "shuffling",
    "fc_bias_broadcast_as_column": "broadcast",
    "fc_forgot_transpose": "transpose",
    "fc_backward_dw_divided_by_batch": "factor-R",
    "fc_backward_dw_from_output": "wrong-input",
    "fc_backward_accumulates_across_calls": "alias",
    "euclidean_dot_not_elementwise": "dot-vs-elementwise",
    "euclidean_stateful_half_gradient": "factor-2",
    "softmax_gradient_diagonal_only": "missing-term",
    "softmax_correct_only_at_first": "other",
    "relu_backward_mask_from_upstream": "mask",
    "slp_linear_integer_division": "integer-division",
    "slp_linear_gamma_not_divided_by_batch": "learning-rate-scale",
    "slp_trains_on_test_set": "test-set",
    "slp_returns_test_label_bias": "broadcast",
    "mlp_trains_on_notebook_images": "wrong-input",
    "mlp_dw1_from_hidden_output": "wrong-input",
    "mlp_second_layer_ascent": "sign",
    "initial_loss_probability": "other",
    "initial_loss_batch_of_32": "factor-R",
    "initial_loss_negative": "sign",
    "zero_init_symmetry": "other",
    "zero_init_slower": "other",
}
# Attacks on the tests' integrity (issue 13): they must lose points like any bug.
INTEGRITY_ATTACKS = (
    "euclidean_stateful_half_gradient",
    "softmax_correct_only_at_first",
    "fc_backward_accumulates_across_calls",
    "slp_returns_test_label_bias",
    "slp_trains_on_test_set",
    "mlp_trains_on_notebook_images",
)
