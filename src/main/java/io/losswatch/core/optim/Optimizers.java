package io.losswatch.core.optim;

import io.losswatch.core.config.Options;
import java.util.List;

/**
 * The optimizers a RunSpec can name, read from its {@code optimizer} object: torch's five, and five that set their
 * own step size (D-Adaptation, Prodigy, Schedule-Free), as their authors' code.
 */
public final class Optimizers {
  public static final List<String> TYPES = List.of("sgd", "adam", "adamw", "rmsprop", "adagrad",
      "prodigy", "dadapt_adam", "dadapt_sgd", "schedulefree_adamw", "schedulefree_sgd");

  private Optimizers() {
  }

  /**
   * Whether an optimizer known only by its name (an external run's: the Python client sends a torch optimizer's class
   * name in lower case) sets its own step: the learning-rate-free ones here, and their authors' classes
   * ({@code Prodigy}, {@code DAdaptAdam}, {@code DAdaptSGD}, …, {@code AdamWScheduleFree}, {@code SGDScheduleFreeReference}, …).
   */
  public static boolean setsOwnStep(String type) {
    String t = type.toLowerCase(java.util.Locale.ROOT);
    return t.startsWith("prodigy") || t.startsWith("dadapt") || t.contains("schedulefree") || t.contains("schedule_free");
  }

  public static Optimizer.Config read(Options o) {
    String type = o.type(TYPES);
    Optimizer.Config c = switch (type) {
      case "sgd" -> Sgd.Config.read(o);
      case "adam" -> Adam.Config.read(o, false);
      case "adamw" -> Adam.Config.read(o, true);
      case "rmsprop" -> RmsProp.Config.read(o);
      case "adagrad" -> Adagrad.Config.read(o);
      case "prodigy" -> Prodigy.Config.read(o);
      case "dadapt_adam" -> DAdaptAdam.Config.read(o);
      case "dadapt_sgd" -> DAdaptSgd.Config.read(o);
      case "schedulefree_adamw" -> ScheduleFreeAdamW.Config.read(o);
      default -> ScheduleFreeSgd.Config.read(o);
    };
    o.done(type);
    return c;
  }
}
