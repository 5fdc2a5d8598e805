"""Lab 2 mutation corpus: typical buggy variants and alternative correct implementations.

BUGS maps a variant name to (grade_id of a test cell that must fail, {function name: replacement
source}); ALTERNATIVES maps a name to {function name: replacement source} (same format as
tests/support/mutants/hw4_variants.py). The sources run in the master notebook's
namespace (`np`, `sigmoid`, `one_hot` are available); a replaced function is also seen by the
notebook functions that call it, e.g. `train_two_layer`.
"""

BUGS: dict[str, tuple[str, dict[str, str]]] = {
    "softmax_unstable_no_shift": (
        "test_softmax",
        {
            "softmax": """
def softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)
"""
        },
    ),
    "softmax_over_wrong_axis": (
        "test_softmax",
        {
            "softmax": """
def softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)
"""
        },
    ),
    "softmax_shift_by_global_max": (
        "test_softmax",
        {
            "softmax": """
def softmax(Z):
    E = np.exp(Z - np.max(Z))
    return E / E.sum(axis=1, keepdims=True)
"""
        },
    ),
    "softmax_sum_over_whole_batch": (
        "test_softmax",
        {
            "softmax": """
def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum()
"""
        },
    ),
    "jacobian_missing_diagonal": (
        "test_softmax_jacobian",
        {
            "softmax_jacobian": """
def softmax_jacobian(Z):
    S = softmax(Z)
    return -np.einsum("ri,rj->rij", S, S)
"""
        },
    ),
    "jacobian_diagonal_only": (
        "test_softmax_jacobian",
        {
            "softmax_jacobian": """
def softmax_jacobian(Z):
    S = softmax(Z)
    return np.stack([np.diag(s * (1 - s)) for s in S])
"""
        },
    ),
    "cross_entropy_log_of_softmax_underflows": (
        "test_cross_entropy",
        {
            "cross_entropy": """
def cross_entropy(Z, Y):
    return float(-np.sum(Y * np.log(softmax(Z))))
"""
        },
    ),
    "cross_entropy_mean_over_batch": (
        "test_cross_entropy",
        {
            "cross_entropy": """
def cross_entropy(Z, Y):
    c = Z.max(axis=1, keepdims=True)
    log_s = Z - c - np.log(np.exp(Z - c).sum(axis=1, keepdims=True))
    return float(-np.sum(Y * log_s) / len(Z))
"""
        },
    ),
    "cross_entropy_missing_minus": (
        "test_cross_entropy",
        {
            "cross_entropy": """
def cross_entropy(Z, Y):
    c = Z.max(axis=1, keepdims=True)
    return float(np.sum(Y * (Z - c - np.log(np.exp(Z - c).sum(axis=1, keepdims=True)))))
"""
        },
    ),
    "ce_gradient_sign_flipped": (
        "test_cross_entropy_gradient",
        {
            "cross_entropy_gradient": """
def cross_entropy_gradient(Z, Y):
    return Y - softmax(Z)
"""
        },
    ),
    "ce_gradient_mean_over_batch": (
        "test_cross_entropy_gradient",
        {
            "cross_entropy_gradient": """
def cross_entropy_gradient(Z, Y):
    return (softmax(Z) - Y) / len(Z)
"""
        },
    ),
    "ce_gradient_of_probabilities": (
        "test_cross_entropy_gradient",
        {
            "cross_entropy_gradient": """
def cross_entropy_gradient(Z, Y):
    return -Y / softmax(Z)
"""
        },
    ),
    "forward_no_hidden_activation": (
        "test_two_layer_forward",
        {
            "two_layer_forward": """
def two_layer_forward(X, W1, b1, W2, b2):
    H = X @ W1.T + b1
    return H, H @ W2.T + b2
"""
        },
    ),
    "forward_sigmoid_on_output": (
        "test_two_layer_forward",
        {
            "two_layer_forward": """
def two_layer_forward(X, W1, b1, W2, b2):
    H = sigmoid(X @ W1.T + b1)
    return H, sigmoid(H @ W2.T + b2)
"""
        },
    ),
    "backward_missing_sigmoid_derivative": (
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dZ, X, H, W2):
    dA = dL_dZ @ W2
    return dA.T @ X, dA.sum(axis=0), dL_dZ.T @ H, dL_dZ.sum(axis=0)
"""
        },
    ),
    "backward_half_sigmoid_derivative": (
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dZ, X, H, W2):
    dA = (dL_dZ @ W2) * H
    return dA.T @ X, dA.sum(axis=0), dL_dZ.T @ H, dL_dZ.sum(axis=0)
"""
        },
    ),
    "backward_transposed_weights": (
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dZ, X, H, W2):
    dA = (dL_dZ @ W2.T) * H * (1 - H)
    return dA.T @ X, dA.sum(axis=0), dL_dZ.T @ H, dL_dZ.sum(axis=0)
"""
        },
    ),
    "backward_bias_mean_over_batch": (
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dZ, X, H, W2):
    dA = (dL_dZ @ W2) * H * (1 - H)
    return dA.T @ X, dA.mean(axis=0), dL_dZ.T @ H, dL_dZ.mean(axis=0)
"""
        },
    ),
    "backward_weight_gradient_transposed": (
        "test_two_layer_backward",
        {
            "two_layer_backward": """
def two_layer_backward(dL_dZ, X, H, W2):
    dA = (dL_dZ @ W2) * H * (1 - H)
    return X.T @ dA, dA.sum(axis=0), H.T @ dL_dZ, dL_dZ.sum(axis=0)
"""
        },
    ),
    "train_gradient_ascent": (
        "test_train_two_layer",
        {
            "train_two_layer": """
def train_two_layer(X, y, n_hidden=8, lr=2.0, epochs=2000, seed=0):
    rng = np.random.default_rng(seed)
    R, m = X.shape
    K = int(np.max(y)) + 1
    Y = one_hot(y, K)
    W1, b1 = rng.normal(size=(n_hidden, m)), np.zeros(n_hidden)
    W2, b2 = rng.normal(size=(K, n_hidden)), np.zeros(K)
    for _ in range(epochs):
        H, Z = two_layer_forward(X, W1, b1, W2, b2)
        dW1, db1, dW2, db2 = two_layer_backward(cross_entropy_gradient(Z, Y), X, H, W2)
        W1, b1 = W1 + lr / R * dW1, b1 + lr / R * db1
        W2, b2 = W2 + lr / R * dW2, b2 + lr / R * db2
    return W1, b1, W2, b2
"""
        },
    ),
    "train_hidden_layer_frozen": (
        "test_train_two_layer",
        {
            "train_two_layer": """
def train_two_layer(X, y, n_hidden=8, lr=2.0, epochs=2000, seed=0):
    rng = np.random.default_rng(seed)
    R, m = X.shape
    K = int(np.max(y)) + 1
    Y = one_hot(y, K)
    W1, b1 = rng.normal(size=(n_hidden, m)), np.zeros(n_hidden)
    W2, b2 = rng.normal(size=(K, n_hidden)), np.zeros(K)
    for _ in range(epochs):
        H, Z = two_layer_forward(X, W1, b1, W2, b2)
        _, _, dW2, db2 = two_layer_backward(cross_entropy_gradient(Z, Y), X, H, W2)
        W2, b2 = W2 - lr / R * dW2, b2 - lr / R * db2
    return W1, b1, W2, b2
"""
        },
    ),
    "train_zero_initialisation": (
        "test_train_two_layer",
        {
            "train_two_layer": """
def train_two_layer(X, y, n_hidden=8, lr=2.0, epochs=2000, seed=0):
    R, m = X.shape
    K = int(np.max(y)) + 1
    Y = one_hot(y, K)
    W1, b1 = np.zeros((n_hidden, m)), np.zeros(n_hidden)
    W2, b2 = np.zeros((K, n_hidden)), np.zeros(K)
    for _ in range(epochs):
        H, Z = two_layer_forward(X, W1, b1, W2, b2)
        dW1, db1, dW2, db2 = two_layer_backward(cross_entropy_gradient(Z, Y), X, H, W2)
        W1, b1 = W1 - lr / R * dW1, b1 - lr / R * db1
        W2, b2 = W2 - lr / R * dW2, b2 - lr / R * db2
    return W1, b1, W2, b2
"""
        },
    ),
}

ALTERNATIVES: dict[str, dict[str, str]] = {
    "log_sum_exp_forms": {
        "softmax": """
def softmax(Z):
    c = Z.max(axis=1, keepdims=True)
    return np.exp(Z - c - np.log(np.sum(np.exp(Z - c), axis=1, keepdims=True)))
""",
        "cross_entropy": """
def cross_entropy(Z, Y):
    log_sum_exp = np.logaddexp.reduce(Z, axis=1, keepdims=True)
    return -np.sum(Y * (Z - log_sum_exp))
""",
    },
    "python_loops": {
        "softmax": """
def softmax(Z):
    R, K = Z.shape
    top = Z[:, 0].copy()
    for k in range(1, K):
        top = np.maximum(top, Z[:, k])
    out = np.empty((R, K))
    for k in range(K):
        out[:, k] = np.exp(Z[:, k] - top)
    total = np.zeros(R)
    for k in range(K):
        total += out[:, k]
    for k in range(K):
        out[:, k] /= total
    return out
""",
        "softmax_jacobian": """
def softmax_jacobian(Z):
    out = []
    for z in Z:
        s = softmax(z[None, :])[0]
        out.append(np.diag(s) - np.outer(s, s))
    return np.array(out)
""",
        "cross_entropy": """
def cross_entropy(Z, Y):
    total = 0.0
    for z, label in zip(Z, np.argmax(Y, axis=1)):
        c = z.max()
        total += c + np.log(np.sum(np.exp(z - c))) - z[label]
    return total
""",
        "two_layer_backward": """
def two_layer_backward(dL_dZ, X, H, W2):
    n_hidden, n_classes = H.shape[1], dL_dZ.shape[1]
    dW1, db1 = np.zeros((n_hidden, X.shape[1])), np.zeros(n_hidden)
    dW2, db2 = np.zeros((n_classes, n_hidden)), np.zeros(n_classes)
    for k in range(n_classes):
        dW2[k] = dL_dZ[:, k] @ H
        db2[k] = np.sum(dL_dZ[:, k])
    for j in range(n_hidden):
        a_j = (dL_dZ @ W2[:, j]) * H[:, j] * (1 - H[:, j])
        dW1[j] = a_j @ X
        db1[j] = np.sum(a_j)
    return dW1, db1, dW2, db2
""",
    },
    "einsum_everywhere": {
        "softmax_jacobian": """
def softmax_jacobian(Z):
    S = softmax(Z)
    K = Z.shape[1]
    return np.einsum("ri,ij->rij", S, np.eye(K)) - np.einsum("ri,rj->rij", S, S)
""",
        "two_layer_forward": """
def two_layer_forward(X, W1, b1, W2, b2):
    H = 1 / (1 + np.exp(-(np.einsum("rm,hm->rh", X, W1) + b1)))
    return H, np.einsum("rh,kh->rk", H, W2) + b2
""",
        "two_layer_backward": """
def two_layer_backward(dL_dZ, X, H, W2):
    dA = np.einsum("rk,kh->rh", dL_dZ, W2) * H * (1 - H)
    return (np.einsum("rh,rm->hm", dA, X), np.einsum("rh->h", dA),
            np.einsum("rk,rh->kh", dL_dZ, H), np.einsum("rk->k", dL_dZ))
""",
    },
    "gradient_via_probabilities_and_tanh_sigmoid": {
        "cross_entropy_gradient": """
def cross_entropy_gradient(Z, Y):
    P = np.exp(Z - np.max(Z, axis=-1, keepdims=True))
    P /= P.sum(axis=-1, keepdims=True)
    return P - Y
""",
        "two_layer_forward": """
def two_layer_forward(X, W1, b1, W2, b2):
    H = 0.5 * (1 + np.tanh(0.5 * (X @ W1.T + b1)))
    return H, H @ W2.T + b2
""",
        "softmax": """
def softmax(Z):
    Z = Z - Z.max(axis=-1)[:, None]
    return np.exp(Z) / np.exp(Z).sum(axis=-1)[:, None]
""",
    },
    "other_training_choices": {
        "train_two_layer": """
def train_two_layer(X, y, n_hidden=16, lr=1.0, epochs=300, seed=3):
    rng = np.random.default_rng(seed)
    R, m = X.shape
    K = int(np.max(y)) + 1
    Y = np.eye(K)[y]
    W1 = rng.normal(scale=2.0, size=(n_hidden, m))
    b1 = rng.normal(size=n_hidden)
    W2 = rng.normal(scale=0.5, size=(K, n_hidden))
    b2 = np.zeros(K)
    batch = 20
    for _ in range(epochs):
        order = rng.permutation(R)
        for start in range(0, R, batch):
            idx = order[start:start + batch]
            H, Z = two_layer_forward(X[idx], W1, b1, W2, b2)
            dZ = cross_entropy_gradient(Z, Y[idx])
            dW1, db1, dW2, db2 = two_layer_backward(dZ, X[idx], H, W2)
            W1 -= lr / len(idx) * dW1
            b1 -= lr / len(idx) * db1
            W2 -= lr / len(idx) * dW2
            b2 -= lr / len(idx) * db2
    return W1, b1, W2, b2
"""
    },
}
