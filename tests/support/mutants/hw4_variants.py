"""HW 4 mutation corpus: typical buggy variants and alternative correct implementations.

BUGS maps a variant name to (the grade_id of a test cell that must fail, {function name:
replacement source}); ALTERNATIVES maps a name to {function name: replacement source} and must
earn full marks. Sources run in the master notebook's namespace (`np` and the reference
functions are there), and a replaced function is seen by the notebook functions that call it,
so a buggy `fc_backward` also trains the networks with wrong gradients.
"""

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
