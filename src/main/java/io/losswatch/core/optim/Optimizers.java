package io.losswatch.core.optim;

import io.losswatch.core.config.Options;
import java.util.List;

/** The optimizers a RunSpec can name, read from its {@code optimizer} object. */
public final class Optimizers {
  public static final List<String> TYPES = List.of("sgd", "adam", "adamw", "rmsprop", "adagrad");

  private Optimizers() {
  }

  public static Optimizer.Config read(Options o) {
    String type = o.type(TYPES);
    Optimizer.Config c = switch (type) {
      case "sgd" -> Sgd.Config.read(o);
      case "adam" -> Adam.Config.read(o, false);
      case "adamw" -> Adam.Config.read(o, true);
      case "rmsprop" -> RmsProp.Config.read(o);
      default -> Adagrad.Config.read(o);
    };
    o.done(type);
    return c;
  }
}
