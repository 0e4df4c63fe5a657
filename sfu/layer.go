package sfu

// maxLayers is the largest number of simulcast layers a track may have.
const maxLayers = 3

// layerSelector chooses which simulcast layer one subscriber receives.
// Switching (up or down) happens only on a keyframe of the target layer,
// since layers are independent streams. Not safe for concurrent use; the
// owning downTrack guards it.
type layerSelector struct {
	current int8 // layer being forwarded, -1 before the first keyframe
	target  int8 // layer wanted
}

func newLayerSelector() layerSelector { return layerSelector{current: -1, target: 0} }

// accept decides whether a packet of layer should be forwarded. switched
// is true for the first packet of a new layer (the rewriter must start a
// new mapping). wantKey is true when the target layer needs a keyframe.
func (s *layerSelector) accept(layer int8, key bool) (forward, switched, wantKey bool) {
	if layer == s.current && s.current == s.target {
		return true, false, false
	}
	if layer == s.target && key {
		s.current = s.target
		return true, true, false
	}
	return layer == s.current, false, layer == s.target
}

// chooseLayer picks the target layer: the highest active layer not above
// the subscriber's hint (maxLayer) whose bitrate fits in estimate (bits per
// second; 0 = unknown, no limit). Falls back to the lowest active layer,
// and to 0 when no layer is known to be active.
func chooseLayer(bitrates *[maxLayers]int64, active int, estimate int64, maxLayer int8) int8 {
	best, lowest := int8(-1), int8(-1)
	for l := int8(0); int(l) < active && l < maxLayers; l++ {
		if bitrates[l] <= 0 {
			continue
		}
		if lowest < 0 {
			lowest = l
		}
		if l <= maxLayer && (estimate <= 0 || bitrates[l] <= estimate) {
			best = l
		}
	}
	switch {
	case best >= 0:
		return best
	case lowest >= 0:
		return lowest
	}
	return 0
}
