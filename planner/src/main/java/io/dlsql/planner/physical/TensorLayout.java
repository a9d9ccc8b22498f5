package io.dlsql.planner.physical;

import io.dlsql.catalog.UserException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How the planner lays an activation out in memory. Flat (rank-1 per sample) tensors have one
 * order, which the planner calls {@link #NCHW}; images may take any of the three, {@link #NCHWC}
 * only when the channels fill whole blocks of {@link #CHANNEL_BLOCK}.
 */
public enum TensorLayout {
  /** Channel planes one after another (the executor's layout today). */
  NCHW,
  /** Channels last: the channels of one pixel are adjacent. */
  NHWC,
  /** Blocked channels: planes of {@link #CHANNEL_BLOCK} interleaved channels (spatial pack kernels). */
  NCHWC;

  /** Channels per block in {@link #NCHWC}: one 256-bit vector of floats. */
  public static final int CHANNEL_BLOCK = 8;

  /** Whether a tensor of per-sample shape {@code shape} can take this layout. */
  public boolean admits(int[] shape) {
    if (shape.length != 3) {
      return this == NCHW;
    }
    return this != NCHWC || shape[0] % CHANNEL_BLOCK == 0;
  }

  /** The name users write in {@code SET layout = ...}. */
  public String sqlName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The layout a user named, case-insensitive ({@code nchw}, {@code nhwc}, {@code nchwc}). */
  public static TensorLayout parse(String name) {
    for (TensorLayout l : values()) {
      if (l.sqlName().equalsIgnoreCase(name.trim())) {
        return l;
      }
    }
    throw new UserException(
        "unknown layout '" + name + "'; known: "
            + Arrays.stream(values()).map(TensorLayout::sqlName).collect(Collectors.joining(", ")));
  }
}
