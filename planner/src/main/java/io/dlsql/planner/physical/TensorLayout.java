package io.dlsql.planner.physical;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.tensor.Layout;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How the planner lays an activation out in memory, one constant per executor {@link Layout}.
 * Flat (rank-1 per sample) tensors have one order, which the planner calls {@link #NCHW}; images
 * may take any of the three ({@link #NCHWC} pads the last block of {@link #CHANNEL_BLOCK} channels
 * with zeros, as the executor does).
 */
public enum TensorLayout {
  /** Channel planes one after another (the executor's layout today). */
  NCHW,
  /** Channels last: the channels of one pixel are adjacent. */
  NHWC,
  /** Blocked channels: planes of {@link #CHANNEL_BLOCK} interleaved channels (spatial pack kernels). */
  NCHWC;

  /** Channels per block in {@link #NCHWC}: one 512-bit vector of floats, the executor's block. */
  public static final int CHANNEL_BLOCK = Layout.CHANNEL_BLOCK;

  /** Whether a tensor of per-sample shape {@code shape} can take this layout: images any, flat tensors NCHW. */
  public boolean admits(int[] shape) {
    return shape.length == 3 || this == NCHW;
  }

  /** The executor's layout of the same name. */
  public Layout executorLayout() {
    return Layout.valueOf(name());
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
