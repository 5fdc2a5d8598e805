"""Lab 1 mutation corpus: typical buggy variants and alternative correct implementations.

BUGS maps a variant name to a `Bug`: the grade_id of a test cell that must fail, the
replacement sources {function name: source}, and the bug's `cause` label (one of CAUSES: what a
good failure message should name; used to measure whether messages name the cause).
ALTERNATIVES maps a name to {function name: replacement source}; they must earn full marks. The
sources run in the master notebook's namespace, so `np` and the given `sigmoid` are available,
and a replaced function is seen by the notebook functions that call it (e.g. a buggy gradient
breaks `gradient_descent` too).
"""

from mutants.bug import CAUSE_LABELS, Bug

CAUSES = CAUSE_LABELS  # a bug's cause is one of these labels, the same in every corpus

BUGS: dict[str, Bug] = {
    # -- perceptron_predict --------------------------------------------------------------------
    "predict_sums_over_batch_axis": Bug(
        "test_perceptron_predict",
        {
            "perceptron_predict": """
def perceptron_predict(X, w):
    return np.sum(X * w, axis=0)
"""
        },
        "axis",
    ),
    "predict_elementwise_not_dot": Bug(
        "test_perceptron_predict",
        {
            "perceptron_predict": """
def perceptron_predict(X, w):
    return X * w
"""
        },
        "dot-vs-elementwise",
    ),
    "predict_transposed_inputs": Bug(
        "test_perceptron_predict",
        {
            "perceptron_predict": """
def perceptron_predict(X, w):
    return X.T @ w
"""
        },
        "transpose",
    ),
    # -- squared_loss --------------------------------------------------------------------------
    "loss_mean_instead_of_half_sum": Bug(
        "test_squared_loss",
        {
            "squared_loss": """
def squared_loss(y_tilde, y):
    return float(np.mean((y_tilde - y) ** 2))
"""
        },
        "factor-R",
    ),
    "loss_missing_one_half": Bug(
        "test_squared_loss",
        {
            "squared_loss": """
def squared_loss(y_tilde, y):
    return float(np.sum((y_tilde - y) ** 2))
"""
        },
        "factor-2",
    ),
    "loss_per_sample_not_summed": Bug(
        "test_squared_loss",
        {
            "squared_loss": """
def squared_loss(y_tilde, y):
    return 0.5 * (y_tilde - y) ** 2
"""
        },
        "axis",
    ),
    "loss_floor_division_by_two": Bug(
        "test_squared_loss",
        {
            "squared_loss": """
def squared_loss(y_tilde, y):
    return np.sum((y_tilde - y) ** 2) // 2
"""
        },
        "integer-division",
    ),
    "loss_targets_as_column": Bug(
        "test_squared_loss",
        {
            "squared_loss": """
def squared_loss(y_tilde, y):
    return 0.5 * float(np.sum((y_tilde - np.reshape(y, (-1, 1))) ** 2))
"""
        },
        "broadcast",
    ),
    "loss_square_of_sum": Bug(
        "test_squared_loss",
        {
            "squared_loss": """
def squared_loss(y_tilde, y):
    return 0.5 * float(np.sum(y_tilde - y) ** 2)
"""
        },
        "other",
    ),
    # -- squared_loss_gradient -----------------------------------------------------------------
    "gradient_sign_flipped": Bug(
        "test_squared_loss_gradient",
        {
            "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    return X.T @ (y - X @ w)
"""
        },
        "sign",
    ),
    "gradient_factor_two": Bug(
        "test_squared_loss_gradient",
        {
            "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    return 2 * X.T @ (X @ w - y)
"""
        },
        "factor-2",
    ),
    "gradient_mean_over_batch": Bug(
        "test_squared_loss_gradient",
        {
            "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    return X.T @ (X @ w - y) / len(y)
"""
        },
        "factor-R",
    ),
    "gradient_missing_input_factor": Bug(
        "test_squared_loss_gradient",
        {
            "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    return np.sum(X @ w - y) * np.ones_like(w)
"""
        },
        "missing-term",
    ),
    "gradient_product_with_X_not_transposed": Bug(
        "test_squared_loss_gradient",
        {
            "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    return np.dot(X, X @ w - y)
"""
        },
        "transpose",
    ),
    "gradient_elementwise_not_summed": Bug(
        "test_squared_loss_gradient",
        {
            "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    return X.T * (X @ w - y)
"""
        },
        "dot-vs-elementwise",
    ),
    # -- gradient_descent ----------------------------------------------------------------------
    "descent_adds_gradient": Bug(
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
        "sign",
    ),
    "descent_skips_initial_loss": Bug(
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
        "other",
    ),
    "descent_one_update_short": Bug(
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
        "other",
    ),
    "descent_updates_callers_w0_in_place": Bug(
        "test_gradient_descent",
        {
            "gradient_descent": """
def gradient_descent(X, y, w0, lr, iterations):
    w = w0
    losses = [squared_loss(perceptron_predict(X, w), y)]
    for _ in range(iterations):
        w -= lr * squared_loss_gradient(X, w, y)
        losses.append(squared_loss(perceptron_predict(X, w), y))
    return w, np.array(losses)
"""
        },
        "alias",
    ),
    "descent_rate_divided_by_batch_size": Bug(
        "test_gradient_descent",
        {
            "gradient_descent": """
def gradient_descent(X, y, w0, lr, iterations):
    w = np.array(w0, dtype=float)
    losses = [squared_loss(perceptron_predict(X, w), y)]
    for _ in range(iterations):
        w = w - lr / len(y) * squared_loss_gradient(X, w, y)
        losses.append(squared_loss(perceptron_predict(X, w), y))
    return w, np.array(losses)
"""
        },
        "learning-rate-scale",
    ),
    "descent_gradient_computed_once": Bug(
        "test_gradient_descent",
        {
            "gradient_descent": """
def gradient_descent(X, y, w0, lr, iterations):
    w = np.array(w0, dtype=float)
    grad = squared_loss_gradient(X, w, y)
    losses = [squared_loss(perceptron_predict(X, w), y)]
    for _ in range(iterations):
        w = w - lr * grad
        losses.append(squared_loss(perceptron_predict(X, w), y))
    return w, np.array(losses)
"""
        },
        "other",
    ),
    # -- answer_divergence_learning_rate -------------------------------------------------------
    "divergence_rate_half": Bug(
        "test_answer_divergence_learning_rate",
        {
            "answer_divergence_learning_rate": """
def answer_divergence_learning_rate(x):
    return 1.0 / np.sum(x ** 2)
"""
        },
        "factor-2",
    ),
    "divergence_rate_from_mean": Bug(
        "test_answer_divergence_learning_rate",
        {
            "answer_divergence_learning_rate": """
def answer_divergence_learning_rate(x):
    return 2.0 / np.mean(x ** 2)
"""
        },
        "factor-R",
    ),
    "divergence_rate_from_absolute_values": Bug(
        "test_answer_divergence_learning_rate",
        {
            "answer_divergence_learning_rate": """
def answer_divergence_learning_rate(x):
    return 2.0 / np.sum(np.abs(x))
"""
        },
        "wrong-input",
    ),
    "divergence_rate_square_of_sum": Bug(
        "test_answer_divergence_learning_rate",
        {
            "answer_divergence_learning_rate": """
def answer_divergence_learning_rate(x):
    return 2.0 / np.sum(x) ** 2
"""
        },
        "other",
    ),
    # -- sigmoid_neuron_forward ----------------------------------------------------------------
    "neuron_forward_ignores_bias": Bug(
        "test_sigmoid_neuron_forward",
        {
            "sigmoid_neuron_forward": """
def sigmoid_neuron_forward(X, w, b):
    return sigmoid(X @ w)
"""
        },
        "missing-term",
    ),
    "neuron_forward_unstable_sigmoid": Bug(
        "test_sigmoid_neuron_forward",
        {
            "sigmoid_neuron_forward": """
def sigmoid_neuron_forward(X, w, b):
    e = np.exp(X @ w + b)
    return e / (1 + e)
"""
        },
        "other",
    ),
    "neuron_forward_bias_subtracted": Bug(
        "test_sigmoid_neuron_forward",
        {
            "sigmoid_neuron_forward": """
def sigmoid_neuron_forward(X, w, b):
    return sigmoid(X @ w - b)
"""
        },
        "sign",
    ),
    # -- sigmoid_neuron_gradient ---------------------------------------------------------------
    "neuron_gradient_missing_sigmoid_derivative": Bug(
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    return X.T @ (f - y), float(np.sum(f - y))
"""
        },
        "missing-term",
    ),
    "neuron_gradient_bias_not_summed": Bug(
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    delta = (f - y) * f * (1 - f)
    return X.T @ delta, delta
"""
        },
        "axis",
    ),
    "neuron_gradient_sign_flipped": Bug(
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    delta = (y - f) * f * (1 - f)
    return X.T @ delta, float(np.sum(delta))
"""
        },
        "sign",
    ),
    "neuron_gradient_derivative_of_input": Bug(
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    a = X @ w + b
    f = sigmoid(a)
    delta = (f - y) * a * (1 - a)
    return X.T @ delta, float(np.sum(delta))
"""
        },
        "wrong-input",
    ),
    "neuron_gradient_bias_mean": Bug(
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    delta = (f - y) * f * (1 - f)
    return X.T @ delta, float(np.mean(delta))
"""
        },
        "factor-R",
    ),
    "neuron_gradient_factor_two": Bug(
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    delta = 2 * (f - y) * f * (1 - f)
    return X.T @ delta, float(np.sum(delta))
"""
        },
        "factor-2",
    ),
    "neuron_gradient_inputs_not_transposed": Bug(
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    delta = (f - y) * f * (1 - f)
    return X @ delta, float(np.sum(delta))
"""
        },
        "transpose",
    ),
    "neuron_gradient_weights_not_summed": Bug(
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    delta = (f - y) * f * (1 - f)
    return X.T * delta, float(np.sum(delta))
"""
        },
        "dot-vs-elementwise",
    ),
    "neuron_gradient_bias_gets_input_factor": Bug(
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    delta = (f - y) * f * (1 - f)
    return X.T @ delta, float(np.sum(delta * X[:, 0]))
"""
        },
        "wrong-input",
    ),
    # -- answer_saturated_neuron ---------------------------------------------------------------
    "saturated_says_large": Bug(
        "test_answer_saturated_neuron",
        {
            "answer_saturated_neuron": """
def answer_saturated_neuron():
    return "a"
"""
        },
        "other",
    ),
    "saturated_says_zero": Bug(
        "test_answer_saturated_neuron",
        {
            "answer_saturated_neuron": """
def answer_saturated_neuron():
    return "c"
"""
        },
        "other",
    ),
    "saturated_says_wrong_way": Bug(
        "test_answer_saturated_neuron",
        {
            "answer_saturated_neuron": """
def answer_saturated_neuron():
    return "d"
"""
        },
        "sign",
    ),
    # -- activation derivatives ----------------------------------------------------------------
    "sigmoid_derivative_of_input_not_output": Bug(
        "test_sigmoid_derivative",
        {
            "sigmoid_derivative": """
def sigmoid_derivative(a):
    return sigmoid(a) * (1 - a)
"""
        },
        "wrong-input",
    ),
    "sigmoid_derivative_inf_over_inf": Bug(
        "test_sigmoid_derivative",
        {
            "sigmoid_derivative": """
def sigmoid_derivative(a):
    return np.exp(-a) / (1 + np.exp(-a)) ** 2
"""
        },
        "other",
    ),
    "tanh_derivative_not_squared": Bug(
        "test_tanh_derivative",
        {
            "tanh_derivative": """
def tanh_derivative(a):
    return 1 - np.tanh(a)
"""
        },
        "other",
    ),
    "tanh_derivative_of_input_not_output": Bug(
        "test_tanh_derivative",
        {
            "tanh_derivative": """
def tanh_derivative(a):
    return 1 - a ** 2
"""
        },
        "wrong-input",
    ),
    "relu_derivative_returns_relu": Bug(
        "test_relu_derivative",
        {
            "relu_derivative": """
def relu_derivative(a):
    return np.maximum(a, 0.0)
"""
        },
        "mask",
    ),
    "relu_derivative_inverted_mask": Bug(
        "test_relu_derivative",
        {
            "relu_derivative": """
def relu_derivative(a):
    return (a < 0).astype(float)
"""
        },
        "mask",
    ),
    "relu_derivative_sign_function": Bug(
        "test_relu_derivative",
        {
            "relu_derivative": """
def relu_derivative(a):
    return np.sign(a)
"""
        },
        "mask",
    ),
    "softplus_derivative_unstable": Bug(
        "test_softplus_derivative",
        {
            "softplus_derivative": """
def softplus_derivative(a):
    return np.exp(a) / (1 + np.exp(a))
"""
        },
        "other",
    ),
    "softplus_derivative_sign": Bug(
        "test_softplus_derivative",
        {
            "softplus_derivative": """
def softplus_derivative(a):
    return 1 / (1 + np.exp(a))
"""
        },
        "sign",
    ),
    "softplus_derivative_returns_softplus": Bug(
        "test_softplus_derivative",
        {
            "softplus_derivative": """
def softplus_derivative(a):
    return np.logaddexp(0.0, a)
"""
        },
        "other",
    ),
    # -- bugs from real students (issue 14, item 4) --------------------------------------------
    "loss_int_of_sum_of_squares": Bug(
        "test_squared_loss",
        {
            "squared_loss": """
def squared_loss(y_tilde, y):
    return int(np.sum((y_tilde - y) ** 2)) / 2
"""
        },
        "integer-division",
    ),
    "divergence_rate_floor_division": Bug(
        "test_answer_divergence_learning_rate",
        {
            "answer_divergence_learning_rate": """
def answer_divergence_learning_rate(x):
    return 2 // np.sum(np.asarray(x) ** 2)
"""
        },
        "integer-division",
    ),
    "descent_asarray_aliases_w0": Bug(
        "test_gradient_descent",
        {
            "gradient_descent": """
def gradient_descent(X, y, w0, lr, iterations):
    w = np.asarray(w0, dtype=float)
    losses = [squared_loss(perceptron_predict(X, w), y)]
    for _ in range(iterations):
        w -= lr * squared_loss_gradient(X, w, y)
        losses.append(squared_loss(perceptron_predict(X, w), y))
    return w, np.array(losses)
"""
        },
        "alias",
    ),
    "descent_rate_divided_by_n_features": Bug(
        "test_gradient_descent",
        {
            "gradient_descent": """
def gradient_descent(X, y, w0, lr, iterations):
    w = np.array(w0, dtype=float)
    losses = [squared_loss(perceptron_predict(X, w), y)]
    for _ in range(iterations):
        w = w - lr / X.shape[1] * squared_loss_gradient(X, w, y)
        losses.append(squared_loss(perceptron_predict(X, w), y))
    return w, np.array(losses)
"""
        },
        "learning-rate-scale",
    ),
    "gradient_residual_not_a_column": Bug(
        "test_squared_loss_gradient",
        {
            "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    return np.sum(X * (X @ w - y), axis=0)
"""
        },
        "broadcast",
    ),
    "predict_returns_a_column": Bug(
        "test_perceptron_predict",
        {
            "perceptron_predict": """
def perceptron_predict(X, w):
    return X @ np.reshape(w, (-1, 1))
"""
        },
        "broadcast",
    ),
    "neuron_gradient_dot_for_elementwise": Bug(
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    delta = np.dot(f - y, f * (1 - f))
    return X.T @ delta, float(np.sum(delta))
"""
        },
        "dot-vs-elementwise",
    ),
    "neuron_gradient_weights_mean": Bug(
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    delta = (f - y) * f * (1 - f)
    return X.T @ delta / len(y), float(np.sum(delta))
"""
        },
        "factor-R",
    ),
    "tanh_derivative_sign_flipped": Bug(
        "test_tanh_derivative",
        {
            "tanh_derivative": """
def tanh_derivative(a):
    return np.tanh(a) ** 2 - 1
"""
        },
        "sign",
    ),
    "neuron_forward_sums_whole_batch": Bug(
        "test_sigmoid_neuron_forward",
        {
            "sigmoid_neuron_forward": """
def sigmoid_neuron_forward(X, w, b):
    return sigmoid(np.sum(X * w) + b)
"""
        },
        "axis",
    ),
    "relu_derivative_overwrites_input": Bug(
        "test_relu_derivative",
        {
            "relu_derivative": """
def relu_derivative(a):
    a[a > 0] = 1.0
    a[a <= 0] = 0.0
    return a
"""
        },
        "alias",
    ),
    "sigmoid_derivative_of_input_squared": Bug(
        "test_sigmoid_derivative",
        {
            "sigmoid_derivative": """
def sigmoid_derivative(a):
    return a * (1 - a)
"""
        },
        "wrong-input",
    ),
    "descent_gradient_averaged_in_update": Bug(
        "test_gradient_descent",
        {
            "gradient_descent": """
def gradient_descent(X, y, w0, lr, iterations):
    w = np.array(w0, dtype=float)
    losses = [squared_loss(perceptron_predict(X, w), y)]
    for _ in range(iterations):
        w = w - lr * squared_loss_gradient(X, w, y) / len(X)
        losses.append(squared_loss(perceptron_predict(X, w), y))
    return w, np.array(losses)
"""
        },
        "factor-R",
    ),
    "neuron_gradient_sigmoid_derivative_of_output": Bug(
        "test_sigmoid_neuron_gradient",
        {
            "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(X @ w + b)
    delta = (f - y) * sigmoid(f) * (1 - sigmoid(f))
    return X.T @ delta, float(np.sum(delta))
"""
        },
        "wrong-input",
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
        "answer_divergence_learning_rate": """
def answer_divergence_learning_rate(x):
    total = 0.0
    for value in x:
        total += value * value
    return 2 / total
""",
    },
    "einsum_and_dot": {
        "perceptron_predict": """
def perceptron_predict(X, w):
    return np.einsum("rn,n->r", X, w)
""",
        "squared_loss": """
def squared_loss(y_tilde, y):
    d = np.asarray(y_tilde) - np.asarray(y)
    return 0.5 * np.dot(d, d)
""",
        "squared_loss_gradient": """
def squared_loss_gradient(X, w, y):
    return np.einsum("rn,r->n", X, np.einsum("rn,n->r", X, w) - y)
""",
        "sigmoid_neuron_gradient": """
def sigmoid_neuron_gradient(X, w, b, y):
    f = sigmoid(np.einsum("rn,n->r", X, w) + b)
    delta = (f - y) * f * (1 - f)
    return np.einsum("r,rn->n", delta, X), delta.sum()
""",
        "answer_divergence_learning_rate": """
def answer_divergence_learning_rate(x):
    return 2 / np.dot(x, x)
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
    "in_place_descent_on_a_copy_with_list_of_losses": {
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
def sigmoid_derivative(a):
    e = np.exp(-np.abs(a))
    return e / (1 + e) ** 2
""",
        "tanh_derivative": """
def tanh_derivative(a):
    return 1 / np.cosh(a) ** 2
""",
        "relu_derivative": """
def relu_derivative(a):
    return np.heaviside(a, 1.0)
""",
        "softplus_derivative": """
def softplus_derivative(a):
    return 0.5 * (1 + np.tanh(a / 2))
""",
    },
    "masks_and_where": {
        "sigmoid_derivative": """
def sigmoid_derivative(a):
    return 0.25 * (1 - np.tanh(a / 2) ** 2)
""",
        "relu_derivative": """
def relu_derivative(a):
    return np.where(a >= 0, 1, 0)
""",
        "softplus_derivative": """
def softplus_derivative(a):
    a = np.asarray(a, dtype=float)
    out = np.empty_like(a)
    positive = a >= 0
    out[positive] = 1 / (1 + np.exp(-a[positive]))
    e = np.exp(a[~positive])
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
        "answer_divergence_learning_rate": """
def answer_divergence_learning_rate(x):
    return 2 / sum(float(v) ** 2 for v in x)
""",
        "answer_saturated_neuron": """
def answer_saturated_neuron():
    return "B"
""",
    },
    "answers_written_differently": {
        "answer_divergence_learning_rate": """
def answer_divergence_learning_rate(x):
    return 2 / np.linalg.norm(x) ** 2
""",
        "answer_saturated_neuron": """
def answer_saturated_neuron():
    return " (b) "
""",
    },
}
