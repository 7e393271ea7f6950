package io.losswatch.core.schedule;

import io.losswatch.core.config.Options;
import java.util.List;

/** The schedules a RunSpec can name, read from its {@code schedule} object. */
public final class Schedules {
  public static final List<String> TYPES = List.of(
      "constant", "step", "multistep", "exponential", "cosine", "linear", "onecycle", "plateau", "warmup_cosine", "lr_range");

  private Schedules() {
  }

  /** {@code runSteps} is the run's length, the default for schedules with a {@code total_steps}. */
  public static Schedule.Config read(Options o, int runSteps) {
    String type = o.type(TYPES);
    Schedule.Config c = switch (type) {
      case "constant" -> Constant.CONFIG;
      case "step" -> StepDecay.Config.read(o);
      case "multistep" -> MultiStep.Config.read(o);
      case "exponential" -> Exponential.Config.read(o);
      case "cosine" -> CosineAnnealing.Config.read(o);
      case "linear" -> LinearRamp.Config.read(o);
      case "onecycle" -> OneCycle.Config.read(o, runSteps);
      case "plateau" -> Plateau.Config.read(o);
      case "lr_range" -> LrRamp.Config.read(o);
      default -> WarmupCosine.Config.read(o, runSteps);
    };
    o.done(type);
    return c;
  }
}
