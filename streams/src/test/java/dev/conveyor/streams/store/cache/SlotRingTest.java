package dev.conveyor.streams.store.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The ring: even shares, only a leaver's keys move, the same owners whatever order members are listed in. */
class SlotRingTest {
  static final int KEYS = 60_000;

  static List<String> nodes(int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add("pekko://conveyor@127.0.0.1:" + (25520 + i));
    }
    return out;
  }

  static Map<String, Integer> load(SlotRing ring) {
    Map<String, Integer> by = new HashMap<>();
    for (int k = 0; k < KEYS; k++) {
      by.merge(ring.owners(SlotRing.mix(k), 1).get(0), 1, Integer::sum);
    }
    return by;
  }

  @Test
  void everyMemberOwnsAnEvenShare() {
    SlotRing ring = SlotRing.of(1024, nodes(6));
    Map<String, Integer> by = load(ring);
    assertThat(by).hasSize(6);
    // 10,000 keys each on average; Poisson's spread is 100, so 5 % is 5 standard deviations
    assertThat(by.values()).allSatisfy(n -> assertThat(n).isBetween(9_500, 10_500));
  }

  @Test
  void aLeaverMovesOnlyItsOwnKeysAndAJoinerTakesKeysOnlyForItself() {
    List<String> six = nodes(6);
    SlotRing before = SlotRing.of(1024, six);
    List<String> five = new ArrayList<>(six);
    String leaver = five.remove(2);
    SlotRing after = SlotRing.of(1024, five);
    List<String> back = new ArrayList<>(five);
    back.add(leaver); // listed last now: the ring does not depend on the listing's order
    SlotRing rejoined = SlotRing.of(1024, back);
    Map<String, Integer> gained = new HashMap<>();
    int moved = 0;
    for (int k = 0; k < KEYS; k++) {
      String was = before.owners(SlotRing.mix(k), 1).get(0);
      String is = after.owners(SlotRing.mix(k), 1).get(0);
      if (!was.equals(is)) {
        assertThat(was).as("key %d moved off a node that stayed", k).isEqualTo(leaver);
        gained.merge(is, 1, Integer::sum);
        moved++;
      } else {
        assertThat(was).isNotEqualTo(leaver);
      }
      // the reverse: the leaver joining again takes back exactly its keys, and no other
      assertThat(rejoined.owners(SlotRing.mix(k), 1).get(0)).as("key %d after the leaver came back", k).isEqualTo(was);
    }
    assertThat(moved).isBetween(9_500, 10_500);
    assertThat(gained).hasSize(5).allSatisfy((n, c) -> assertThat(c).isBetween(1_600, 2_400)); // spread evenly
  }

  @Test
  void ownersAreDistinctPrimaryFirstAndIndependentOfListingOrder() {
    List<String> nodes = nodes(5);
    List<String> reversed = new ArrayList<>(nodes);
    java.util.Collections.reverse(reversed);
    SlotRing a = SlotRing.of(256, nodes);
    SlotRing b = SlotRing.of(256, reversed);
    for (int k = 0; k < 1000; k++) {
      List<String> owners = a.owners(SlotRing.mix(k), 2);
      assertThat(owners).hasSize(2).doesNotHaveDuplicates().isEqualTo(b.owners(SlotRing.mix(k), 2));
      assertThat(owners.get(0)).isEqualTo(a.owners(SlotRing.mix(k), 1).get(0));
    }
    assertThat(SlotRing.of(8, nodes(1)).owners(SlotRing.mix(1), 2)).hasSize(1);
  }

  @Test
  void moreMembersThanSlotsIsRefusedWithTheSetting() {
    assertThatThrownBy(() -> SlotRing.of(4, nodes(5))).hasMessageContaining("conveyor.cache.cluster.slots");
  }
}
