// Read this first: RFC 2782, "Usage rules" — the order in which SRV targets are tried. Lowest priority first;
// within one priority, a weighted random choice repeated until the group is used up. Sans-IO: the randomness
// comes in as a function.
namespace Apps.Conduit.Dns;

/// <summary>RFC 2782 target selection: priority groups, and weighted random order inside each group.</summary>
public static class SrvOrder
{
    /// <summary>
    /// Orders <paramref name="records"/> for trying, per RFC 2782: ascending priority; inside a priority, records of
    /// weight 0 are placed first, running sums of the weights are taken, a uniform number in [0, sum] is drawn and
    /// the first record whose running sum reaches it is next; repeat with the rest.
    /// </summary>
    /// <param name="records">The records, in any order.</param>
    /// <param name="priority">A record's priority.</param>
    /// <param name="weight">A record's weight.</param>
    /// <param name="uniform">Returns a uniform integer in [0, n] (inclusive) for n ≥ 0.</param>
    public static List<T> Arrange<T>(IReadOnlyList<T> records, Func<T, ushort> priority, Func<T, ushort> weight, Func<int, int> uniform)
    {
        var byPriority = new SortedDictionary<ushort, List<T>>();
        foreach (var record in records)
        {
            if (!byPriority.TryGetValue(priority(record), out var group))
            {
                byPriority[priority(record)] = group = [];
            }

            group.Add(record);
        }

        var ordered = new List<T>(records.Count);
        foreach (var group in byPriority.Values)
        {
            // "all those with weight 0 are placed at the beginning of the list", order otherwise kept.
            var pending = new List<T>(group.Count);
            pending.AddRange(group.Where(r => weight(r) == 0));
            pending.AddRange(group.Where(r => weight(r) != 0));
            while (pending.Count > 0)
            {
                var sum = 0;
                foreach (var record in pending)
                {
                    sum += weight(record);
                }

                var drawn = uniform(sum);
                var running = 0;
                var chosen = pending.Count - 1;
                for (var i = 0; i < pending.Count; i++)
                {
                    running += weight(pending[i]);
                    if (running >= drawn)
                    {
                        chosen = i;
                        break;
                    }
                }

                ordered.Add(pending[chosen]);
                pending.RemoveAt(chosen);
            }
        }

        return ordered;
    }
}
