package io.losswatch;

import io.losswatch.cli.Cli;
import io.losswatch.cli.LosswatchCommand;
import io.losswatch.server.Server;

/** {@code java -jar losswatch.jar [command] [options]}: the commands are {@link LosswatchCommand}'s. */
public final class Main {
  private Main() {
  }

  public static void main(String[] args) {
    Server.configureNetty();   // before anything loads Netty
    int status = LosswatchCommand.run(args, Cli.writer(System.out), Cli.writer(System.err));
    // serve answers 0 and keeps running on the server's threads; any other command is done, and left nothing running
    if (status != 0) System.exit(status);
  }
}
