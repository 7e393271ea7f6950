package io.losswatch.server;

import io.losswatch.core.RunSpec;
import io.losswatch.run.RunManager;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo gallery: runs paced for a person (20 steps/s) that start over when they end, so a dashboard
 * opened at any time shows motion.
 */
final class Demo {
  static final double PACE = 20;

  private Demo() {
  }

  static List<String> specs() {
    List<String> specs = new ArrayList<>();
    // the textbook example: plain SGD on x², too small, just right, overshooting, diverging
    for (String lr : List.of("0.001", "0.1", "0.9", "1.1")) {
      specs.add(spec("textbook: sgd lr=" + lr, "\"quadratic\"", "{\"type\":\"sgd\",\"lr\":" + lr + "}", null, 400));
    }
    // optimizers compared on rosenbrock
    specs.add(spec("rosenbrock: sgd momentum", "\"rosenbrock\"", "{\"type\":\"sgd\",\"lr\":0.001,\"momentum\":0.9}", null, 1200));
    specs.add(spec("rosenbrock: adam", "\"rosenbrock\"", "{\"type\":\"adam\",\"lr\":0.05}", null, 1200));
    specs.add(spec("rosenbrock: rmsprop", "\"rosenbrock\"", "{\"type\":\"rmsprop\",\"lr\":0.005}", null, 1200));
    specs.add(spec("rosenbrock: adagrad", "\"rosenbrock\"", "{\"type\":\"adagrad\",\"lr\":0.5}", null, 1200));
    // schedules compared on logistic regression
    String sgd = "{\"type\":\"sgd\",\"lr\":0.05}";
    specs.add(spec("logreg: constant", "\"logreg\"", sgd, null, 600));
    specs.add(spec("logreg: step", "\"logreg\"", sgd, "{\"type\":\"step\",\"step_size\":150,\"gamma\":0.3}", 600));
    specs.add(spec("logreg: cosine", "\"logreg\"", sgd, "{\"type\":\"cosine\",\"T_max\":600}", 600));
    specs.add(spec("logreg: warmup_cosine", "\"logreg\"", sgd, "{\"type\":\"warmup_cosine\",\"warmup_steps\":60}", 600));
    return specs;
  }

  private static String spec(String name, String problem, String optimizer, String schedule, int steps) {
    return "{\"name\":\"" + name + "\",\"problem\":" + problem + ",\"optimizer\":" + optimizer
        + (schedule == null ? "" : ",\"schedule\":" + schedule)
        + ",\"steps\":" + steps + ",\"steps_per_second\":" + PACE + "}";
  }

  static Future<?> launch(RunManager manager) {
    List<Future<?>> started = new ArrayList<>();
    for (String s : specs()) started.add(manager.launch(RunSpec.parse(s), true));
    return Future.all(started);
  }
}
