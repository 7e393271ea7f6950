package io.losswatch.core.problem;

import io.losswatch.core.config.Options;
import java.util.List;

/** Reads a RunSpec's {@code problem} object (or its string shorthand) into a validated {@link Problem.Config}. */
public final class Problems {
  /** The problem names accepted as {@code problem.type}. */
  public static final List<String> TYPES =
      List.of("quadratic", "ellipse", "rosenbrock", "linreg", "logreg", "softmax", "mlp");

  private Problems() {
  }

  /** Reads {@code type}, then that problem's options, and rejects any key it did not read. */
  public static Problem.Config read(Options o) {
    String type = o.type(TYPES);
    Problem.Config c = switch (type) {
      case "quadratic" -> Quadratic.read(o);
      case "ellipse" -> Ellipse.read(o);
      case "rosenbrock" -> Rosenbrock.read(o);
      case "linreg" -> LinearRegression.read(o);
      case "logreg" -> LogisticRegression.read(o);
      case "softmax" -> SoftmaxRegression.read(o);
      case "mlp" -> Mlp.read(o);
      default -> throw new AssertionError(type);
    };
    o.done(type);
    return c;
  }
}
