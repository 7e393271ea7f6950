package io.losswatch;

import io.losswatch.cli.TraceCommand;

/** The command line: {@code java -jar losswatch.jar <command> [options]}. */
public final class Main {
  static final String HELP = """
      losswatch: a streaming live-training monitor

      usage: java -jar losswatch.jar <command> [options]

      commands:
        trace --spec <JSON or file>   run a RunSpec headless; print step,loss,lr,grad_norm as CSV
        help                          this text
      """;

  private Main() {
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String[] args) {
    String command = args.length == 0 ? "help" : args[0];
    String[] rest = java.util.Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
    switch (command) {
      case "trace":
        return TraceCommand.run(rest, System.out, System.err);
      case "help": case "--help": case "-h":
        System.out.print(HELP);
        return 0;
      default:
        System.err.println("losswatch: unknown command '" + command + "'; try --help");
        return 2;
    }
  }
}
