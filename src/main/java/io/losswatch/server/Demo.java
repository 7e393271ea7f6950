package io.losswatch.server;

import io.losswatch.core.RunSpec;
import io.losswatch.core.config.Json;
import io.losswatch.run.RunManager;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The demo gallery: runs paced for a person (20 steps/s) that start over when they end, so a dashboard
 * opened at any time shows motion.
 */
final class Demo {
  static final double PACE = 20;

  private Demo() {
  }

  /** The gallery's run specs, as JSON text (as a person would POST them). */
  static List<String> specs() {
    List<String> specs = new ArrayList<>();
    // the textbook example: plain SGD on x², too small, just right, overshooting, diverging
    for (double lr : new double[] {0.001, 0.1, 0.9, 1.1}) {
      specs.add(spec("textbook: sgd lr=" + Json.format(lr), "quadratic", object("type", "sgd", "lr", lr), null, 400));
    }
    // optimizers compared on rosenbrock
    specs.add(spec("rosenbrock: sgd momentum", "rosenbrock", object("type", "sgd", "lr", 0.001, "momentum", 0.9), null, 1200));
    specs.add(spec("rosenbrock: adam", "rosenbrock", object("type", "adam", "lr", 0.05), null, 1200));
    specs.add(spec("rosenbrock: rmsprop", "rosenbrock", object("type", "rmsprop", "lr", 0.005), null, 1200));
    specs.add(spec("rosenbrock: adagrad", "rosenbrock", object("type", "adagrad", "lr", 0.5), null, 1200));
    // schedules compared on logistic regression
    Map<String, Object> sgd = object("type", "sgd", "lr", 0.05);
    specs.add(spec("logreg: constant", "logreg", sgd, null, 600));
    specs.add(spec("logreg: step", "logreg", sgd, object("type", "step", "step_size", 150, "gamma", 0.3), 600));
    specs.add(spec("logreg: cosine", "logreg", sgd, object("type", "cosine", "T_max", 600), 600));
    specs.add(spec("logreg: warmup_cosine", "logreg", sgd, object("type", "warmup_cosine", "warmup_steps", 60), 600));
    // the edge of stability: full-batch gradient descent on a small digits mlp sharpens until its sharpness reaches
    // 2/lr, then hovers there (stability ≈ 1) while the loss still falls (BENCHMARKS.md, "Curvature")
    for (double lr : new double[] {0.35, 0.4, 0.6}) {
      specs.add(spec("edge of stability: gd lr=" + Json.format(lr), object("type", "mlp", "hidden", 4),
          object("type", "sgd", "lr", lr), null, EOS_STEPS, EOS_PACE, EOS_CURVATURE_EVERY));
    }
    return specs;
  }

  static final int EOS_STEPS = 3000;
  /**
   * Two and a half minutes a run (the sharpening of lr 0.4 reaches the edge about half way), as paced as the rest of
   * the gallery: a full-batch step of the digits mlp is ~2 ms of CPU, and at 50 steps/s the three runs (with their
   * look-ahead proofs) took 0.5 to 1.5 of this machine's 2 cores from an idle server.
   */
  static final double EOS_PACE = 20;
  static final int EOS_CURVATURE_EVERY = 20;

  private static String spec(String name, Object problem, Map<String, Object> optimizer, Map<String, Object> schedule,
      int steps) {
    return spec(name, problem, optimizer, schedule, steps, PACE, 0);
  }

  /** A gallery spec; {@code curvatureEvery} 0 leaves the option out (the default). */
  private static String spec(String name, Object problem, Map<String, Object> optimizer, Map<String, Object> schedule,
      int steps, double pace, int curvatureEvery) {
    Map<String, Object> s = object("name", name, "problem", problem, "optimizer", optimizer);
    if (schedule != null) s.put("schedule", schedule);
    s.put("steps", steps);
    s.put("steps_per_second", pace);
    if (curvatureEvery != 0) s.put("curvature_every", curvatureEvery);
    return Json.write(s);
  }

  /** An object of key-value pairs, in their order. */
  private static Map<String, Object> object(Object... pairs) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) m.put((String) pairs[i], pairs[i + 1]);
    return m;
  }

  static Future<?> launch(RunManager manager) {
    List<Future<?>> started = new ArrayList<>();
    for (String s : specs()) started.add(manager.launch(RunSpec.parse(s), true));
    return Future.all(started);
  }
}
