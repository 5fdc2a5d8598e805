"""Lab 1 mutation corpus: typical buggy variants and alternative correct implementations.

BUGS maps a variant name to (grade_id of a test cell that must fail, {function name: replacement
source}); ALTERNATIVES maps a name to {function name: replacement source} (same format as
tests/support/mutants/hw4_variants.py). The sources run in the master notebook's
namespace, so `np` and the given `sigmoid` are available, and a replaced function is seen by
the notebook functions that call it (e.g. a buggy gradient breaks `gradient_descent` too).
"""

BUGS: dict[str, tuple[str, dict[str, str]]] = {
    "predict_sums_over_batch_axis": (
        "test_perceptron_predict",
        {
            "perceptron_predict": """
def perceptron_predict(X, w):
    return np.sum(X * w, axis=0)
"""
        },
    ),
    "loss_mean_instead_of_half_sum": (
        "test_squared_loss",
        {
            "squared_loss": """
def squared_loss(y_tilde, y):
    return float(np.mean((y_tilde - y) ** 2))
"""
        },
    ),
    "loss_missing_one_half": (
        "test_squared_loss",
        {
            "squared_loss": """
def squared_loss(y_tilde, y):
    return float(np.sum((y_tilde - y) ** 2))
"""
        },
    ),
    "loss_per_sample_not_summed": (
        "test_squared_loss",
        {
            "squared_loss": """
def squared_loss(y_tilde, y):
    return 0.5 * (y_tilde - y) ** 2
"""
        },
    ),
    "gradient_sign_flipped": (
        "test_squared_loss_gradient",
        {
            "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    return X.T @ (y - X @ w)
"""
        },
    ),
    "gradient_factor_two": (
        "test_squared_loss_gradient",
        {
            "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    return 2 * X.T @ (X @ w - y)
"""
        },
    ),
    "gradient_mean_over_batch": (
        "test_squared_loss_gradient",
        {
            "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    return X.T @ (X @ w - y) / len(y)
"""
        },
    ),
    "gradient_missing_input_factor": (
        "test_squared_loss_gradient",
        {
            "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    return np.sum(X @ w - y) * np.ones_like(w)
"""
        },
    ),
    "descent_adds_gradient": (
        "test_gradient_descent",
        {
            "gradient_descent": """
def gradient_descent(X, y, w0, lr, iterations):
    w = np.array(w0, dtype=float)
    losses = [squared_loss(perceptron_predict(X, w), y)]
    for _ in range(iterations):
        w = w + lr * squared_loss_gradient(X, w, y)
        losses.append(squared_loss(perceptron_predict(X, w), y))
    return w, np.array(losses)
"""
        },
    ),
    "descent_skips_initial_loss": (
        "test_gradient_descent",
        {
            "gradient_descent": """
def gradient_descent(X, y, w0, lr, iterations):
    w = np.array(w0, dtype=float)
    losses = []
    for _ in range(iterations):
        w = w - lr * squared_loss_gradient(X, w, y)
        losses.append(squared_loss(perceptron_predict(X, w), y))
    return w, np.array(losses)
"""
        },
    ),
    "descent_one_update_short": (
        "test_gradient_descent",
        {
            "gradient_descent": """
def gradient_descent(X, y, w0, lr, iterations):
    w = np.array(w0, dtype=float)
    losses = [squared_loss(perceptron_predict(X, w), y)]
    for _ in range(iterations - 1):
        w = w - lr * squared_loss_gradient(X, w, y)
        losses.append(squared_loss(perceptron_predict(X, w), y))
    losses.append(losses[-1])
    return w, np.array(losses)
"""
        },
    ),
    "neuron_forward_ignores_bias": (
        "test_sigmoid_neuron_forward",
        {
            "sigmoid_neuron_forward": """
def sigmoid_neuron_forward(X, w, b):
    return sigmoid(X @ w)
"""
        },
    ),
    "neuron_forward_unstable_sigmoid": (
        "test_sigmoid_neuron_forward",
        {
            "sigmoid_neuron_forward": """
def sigmoid_neuron_forward(X, w, b):
    e = np.exp(X @ w + b)
    return e / (1 + e)
"""
        },
    ),
    "neuron_gradient_missing_sigmoid_derivative": (
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    return X.T @ (f - y), float(np.sum(f - y))
"""
        },
    ),
    "neuron_gradient_bias_not_summed": (
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    delta = (f - y) * f * (1 - f)
    return X.T @ delta, delta
"""
        },
    ),
    "neuron_gradient_sign_flipped": (
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    delta = (y - f) * f * (1 - f)
    return X.T @ delta, float(np.sum(delta))
"""
        },
    ),
    "neuron_gradient_derivative_of_input": (
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    z = X @ w + b
    f = sigmoid(z)
    delta = (f - y) * z * (1 - z)
    return X.T @ delta, float(np.sum(delta))
"""
        },
    ),
    "sigmoid_derivative_in_terms_of_z": (
        "test_sigmoid_derivative",
        {
            "sigmoid_derivative": """
def sigmoid_derivative(z):
    return sigmoid(z) * (1 - z)
"""
        },
    ),
    "sigmoid_derivative_inf_over_inf": (
        "test_sigmoid_derivative",
        {
            "sigmoid_derivative": """
def sigmoid_derivative(z):
    return np.exp(-z) / (1 + np.exp(-z)) ** 2
"""
        },
    ),
    "tanh_derivative_not_squared": (
        "test_tanh_derivative",
        {
            "tanh_derivative": """
def tanh_derivative(z):
    return 1 - np.tanh(z)
"""
        },
    ),
    "relu_derivative_returns_relu": (
        "test_relu_derivative",
        {
            "relu_derivative": """
def relu_derivative(z):
    return np.maximum(z, 0.0)
"""
        },
    ),
    "softplus_derivative_unstable": (
        "test_softplus_derivative",
        {
            "softplus_derivative": """
def softplus_derivative(z):
    return np.exp(z) / (1 + np.exp(z))
"""
        },
    ),
    "softplus_derivative_sign": (
        "test_softplus_derivative",
        {
            "softplus_derivative": """
def softplus_derivative(z):
    return 1 / (1 + np.exp(z))
"""
        },
    ),
}

ALTERNATIVES: dict[str, dict[str, str]] = {
    "python_loops": {
        "perceptron_predict": """
def perceptron_predict(X, w):
    out = np.zeros(len(X))
    for r in range(len(X)):
        for j in range(len(w)):
            out[r] += X[r][j] * w[j]
    return out
""",
        "squared_loss": """
def squared_loss(y_tilde, y):
    total = 0.0
    for a, b in zip(y_tilde, y):
        total += (a - b) ** 2 / 2
    return total
""",
        "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    grad = np.zeros(len(w))
    for r in range(len(X)):
        residual = sum(X[r][j] * w[j] for j in range(len(w))) - y[r]
        for j in range(len(w)):
            grad[j] += residual * X[r][j]
    return grad
""",
        "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    dw, db = np.zeros(len(w)), 0.0
    for x_r, y_r in zip(X, y):
        f = sigmoid(x_r @ w + b)
        delta = (f - y_r) * f * (1 - f)
        dw += delta * x_r
        db += delta
    return dw, db
""",
    },
    "einsum_and_dot": {
        "perceptron_predict": """
def perceptron_predict(X, w):
    return np.einsum("rm,m->r", X, w)
""",
        "squared_loss": """
def squared_loss(y_tilde, y):
    d = np.asarray(y_tilde) - np.asarray(y)
    return 0.5 * np.dot(d, d)
""",
        "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    return np.einsum("rm,r->m", X, np.einsum("rm,m->r", X, w) - y)
""",
        "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(np.einsum("rm,m->r", X, w) + b)
    delta = (f - y) * f * (1 - f)
    return np.einsum("r,rm->m", delta, X), delta.sum()
""",
    },
    "bias_as_weight_on_constant_one": {
        "sigmoid_neuron_forward": """
def sigmoid_neuron_forward(X, w, b):
    X1 = np.hstack([X, np.ones((len(X), 1))])
    return 1 / (1 + np.exp(-(X1 @ np.append(w, b))))
""",
        "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    X1 = np.column_stack([X, np.ones(len(X))])
    f = sigmoid_neuron_forward(X, w, b)
    grad = X1.T @ ((f - y) * f * (1 - f))
    return grad[:-1], grad[-1]
""",
    },
    "in_place_descent_with_list_of_losses": {
        "gradient_descent": """
def gradient_descent(X, y, w0, lr, iterations):
    w = w0.copy()
    losses = []
    for step in range(iterations + 1):
        residual = X @ w - y
        losses.append(0.5 * residual @ residual)
        if step < iterations:
            w -= lr * (X.T @ residual)
    return w, losses
"""
    },
    "other_activation_formulas": {
        "sigmoid_derivative": """
def sigmoid_derivative(z):
    e = np.exp(-np.abs(z))
    return e / (1 + e) ** 2
""",
        "tanh_derivative": """
def tanh_derivative(z):
    return 1 / np.cosh(z) ** 2
""",
        "relu_derivative": """
def relu_derivative(z):
    return np.heaviside(z, 1.0)
""",
        "softplus_derivative": """
def softplus_derivative(z):
    return 0.5 * (1 + np.tanh(z / 2))
""",
    },
    "masks_and_where": {
        "sigmoid_derivative": """
def sigmoid_derivative(z):
    return 0.25 * (1 - np.tanh(z / 2) ** 2)
""",
        "relu_derivative": """
def relu_derivative(z):
    return np.where(z >= 0, 1, 0)
""",
        "softplus_derivative": """
def softplus_derivative(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    positive = z >= 0
    out[positive] = 1 / (1 + np.exp(-z[positive]))
    e = np.exp(z[~positive])
    out[~positive] = e / (1 + e)
    return out
""",
    },
    "plain_python_results": {
        "perceptron_predict": """
def perceptron_predict(X, w):
    return [float(np.dot(row, w)) for row in X]
""",
        "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    residual = np.dot(X, w) - y
    return list(np.dot(residual, X))
""",
        "gradient_descent": """
def gradient_descent(X, y, w0, lr, iterations):
    w = [float(v) for v in w0]
    losses = []
    for step in range(iterations + 1):
        residual = [sum(a * b for a, b in zip(row, w)) - t for row, t in zip(X, y)]
        losses.append(sum(r * r for r in residual) / 2)
        if step == iterations:
            break
        grad = [sum(r * row[j] for r, row in zip(residual, X)) for j in range(len(w))]
        w = [wj - lr * gj for wj, gj in zip(w, grad)]
    return w, losses
""",
        "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    delta = (f - y) * f * (1 - f)
    return (X.T @ delta).tolist(), np.float32(delta.sum()).item()
""",
    },
}
