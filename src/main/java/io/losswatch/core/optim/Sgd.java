package io.losswatch.core.optim;

import io.losswatch.core.config.Options;
import io.losswatch.core.state.State;

/**
 * Stochastic gradient descent, optionally with momentum, as {@code torch.optim.SGD}:
 * <pre>
 *   g ← g + λθ                                   (weight_decay λ)
 *   b ← g at the first step with momentum μ ≠ 0, else b ← μb + (1−τ)g   (dampening τ)
 *   g ← g + μb if nesterov, else b
 *   θ ← θ − lr·g
 * </pre>
 */
public final class Sgd implements Optimizer {
  /** torch's arguments: {@code lr} is required, the rest default to 0 / false. */
  public record Config(double lr, double momentum, double dampening, boolean nesterov, double weightDecay)
      implements Optimizer.Config {
    static Config read(Options o) {
      double lr = o.number("lr", v -> v > 0, "must be > 0");
      double momentum = o.number("momentum", 0, v -> v >= 0, "must be >= 0");
      double dampening = o.number("dampening", 0, v -> v >= 0 && v <= 1, "must be in [0, 1]");
      boolean nesterov = o.bool("nesterov", false);
      double weightDecay = o.number("weight_decay", 0, v -> v >= 0, "must be >= 0");
      if (nesterov && (momentum <= 0 || dampening != 0)) {
        throw o.fail("nesterov", "requires momentum > 0 and dampening = 0, got momentum "
            + Options.describe(momentum) + " and dampening " + Options.describe(dampening));
      }
      return new Config(lr, momentum, dampening, nesterov, weightDecay);
    }

    @Override public String type() {
      return "sgd";
    }

    @Override public boolean hasMomentum() {
      return true;
    }

    @Override public Optimizer create(int dimension) {
      return new Sgd(this, dimension);
    }
  }

  private final double dampening;
  private final boolean nesterov;
  private final double weightDecay;
  private final double[] buffer;
  private boolean bufferStarted;
  private double lr;
  private double momentum;

  Sgd(Config c, int dimension) {
    lr = c.lr;
    momentum = c.momentum;
    dampening = c.dampening;
    nesterov = c.nesterov;
    weightDecay = c.weightDecay;
    buffer = new double[dimension];
  }

  @Override public void step(double[] params, double[] grad) {
    boolean useMomentum = momentum != 0;
    for (int i = 0; i < params.length; i++) {
      double d = grad[i];
      if (weightDecay != 0) d = d + weightDecay * params[i];
      if (useMomentum) {
        // torch clones the first gradient into the buffer rather than starting it from zero
        buffer[i] = bufferStarted ? buffer[i] * momentum + (1 - dampening) * d : d;
        d = nesterov ? d + momentum * buffer[i] : buffer[i];
      }
      params[i] = params[i] + -lr * d;
    }
    if (useMomentum) bufferStarted = true;
  }

  /**
   * On a quadratic: plain, lr·λ &lt; 2; heavy ball, lr·(1−τ)·λ &lt; 2(1+μ) for μ &lt; 1 (never stable from μ = 1);
   * Nesterov, lr·λ &lt; (2+2μ)/(1+2μ).
   */
  @Override public double stabilityThreshold() {
    if (momentum == 0) return 2;
    if (nesterov) return (2 + 2 * momentum) / (1 + 2 * momentum);
    if (momentum >= 1) return 0;
    return 2 * (1 + momentum) / (1 - dampening);   // dampening 1: no feedback at all, an infinite threshold
  }

  @Override public double lr() {
    return lr;
  }

  @Override public void setLr(double lr) {
    this.lr = lr;
  }

  @Override public void setMomentum(double momentum) {
    this.momentum = momentum;
  }

  @Override public State state() {
    return new State().put("lr", lr).put("momentum", momentum).put("momentum_buffer", buffer)
        .put("buffer_started", bufferStarted);
  }

  @Override public void load(State s) {
    lr = s.number("lr");
    momentum = s.number("momentum");
    s.copy("momentum_buffer", buffer);
    bufferStarted = s.bool("buffer_started");
  }
}
