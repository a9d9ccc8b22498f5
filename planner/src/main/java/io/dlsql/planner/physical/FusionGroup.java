package io.dlsql.planner.physical;

import java.util.List;

/**
 * Operators that run as one kernel pass: the first (the anchor) reads its inputs from memory, the
 * later ones take the previous member's output from registers, and only the last member's output
 * is written. In inference a batchnorm after a convolution is folded into its weights.
 *
 * @param members plan node ids, in schedule order
 * @param label what EXPLAIN shows, e.g. {@code conv1+bn1+relu1}
 */
public record FusionGroup(int id, List<Integer> members, String label) {
  public FusionGroup {
    members = List.copyOf(members);
    if (members.size() < 2) {
      throw new IllegalArgumentException("a fusion group needs two members: " + members);
    }
  }
}
