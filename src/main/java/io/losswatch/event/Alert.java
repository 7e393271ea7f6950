package io.losswatch.event;

import java.util.Locale;

/** Something a person should know about a run now, with advice on the learning rate where there is some. */
public record Alert(String run, String name, Kind kind, long step, String message, double suggestedLr, long time)
    implements RunEvent {
  @Override
  public void tell(Listener to) {
    to.alert(this);
  }

  public enum Kind {
    DIVERGING, NON_FINITE, TOO_SLOW, STALLED,
    /** The run learns nothing any more (it sits at the loss of a guess, its gradient collapsed): no lr change revives it. */
    DEAD,
    /** The run's steps cannot be written (a full disk): it is paused until they can. */
    STORAGE,
    /** The run's guard rolled it back past a blow-up (or, out of rewinds, let it end as diverged). */
    REWOUND;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }
}
