package mediatest

import "math/rand/v2"

// Impair returns a copy of pkts with about lossPct percent of packets
// dropped and about reorderPct percent swapped with the next packet of the
// same track, deterministically for a seed. It reports how many it dropped.
func Impair(pkts []Packet, seed uint64, lossPct, reorderPct int) (out []Packet, dropped int) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out = make([]Packet, 0, len(pkts))
	for _, p := range pkts {
		if rng.IntN(100) < lossPct {
			dropped++
			continue
		}
		out = append(out, p)
	}
	for i := 0; i < len(out)-1; i++ {
		if rng.IntN(100) >= reorderPct {
			continue
		}
		for j := i + 1; j < len(out) && j < i+8; j++ {
			if out[j].Kind == out[i].Kind {
				out[i], out[j] = out[j], out[i]
				i = j
				break
			}
		}
	}
	return out, dropped
}
