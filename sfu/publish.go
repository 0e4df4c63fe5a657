package sfu

import (
	"errors"
	"io"
	"strings"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// ridLayer maps a simulcast RID to a layer index, lowest quality first.
// Unknown RIDs are ordered by arrival (free).
func ridLayer(rid string, free int) int {
	switch strings.ToLower(rid) {
	case "", "q", "l", "low", "0":
		return 0
	case "h", "m", "mid", "1":
		return 1
	case "f", "high", "2":
		return 2
	}
	return min(free, maxLayers-1)
}

// onTrack runs when the remote peer starts sending a track (or one
// simulcast layer of it). It creates or extends the publication, offers it
// to the other participants and starts the layer's read loops.
func (p *Participant) onTrack(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	pub, layer, isNew, ok := p.addLayer(track, recv)
	if !ok {
		return
	}
	go p.readLoop(pub, layer, track)
	go p.receiverRTCPLoop(recv, track.RID())
	if !isNew {
		return
	}
	p.log.Debug("track published", "kind", pub.kind.String(), "codec", pub.codec.MimeType)
	for _, other := range p.room.publish(pub) {
		other.subscribe(pub)
	}
}

// addLayer finds or creates the publication for track and claims its
// layer; it accounts for the layer's two goroutines in wg.
func (p *Participant) addLayer(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) (*publication, int, bool, bool) {
	key := track.StreamID() + "/" + track.ID()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, 0, false, false
	}
	pub, exists := p.pubs[key]
	if !exists {
		pub = p.newPublication(track, recv)
		p.pubs[key] = pub
	}
	layer := ridLayer(track.RID(), int(pub.nLayers.Load()))
	l := &pub.layers[layer]
	if l.active.Load() {
		p.log.Warn("duplicate simulcast layer ignored", "layer", layer)
		return nil, 0, false, false
	}
	l.rid = track.RID()
	l.ssrc.Store(uint32(track.SSRC()))
	l.active.Store(true)
	if int(pub.nLayers.Load()) < layer+1 {
		pub.nLayers.Store(int32(layer + 1))
	}
	p.wg.Add(2) // under mu, before closed can be set: Close waits for them
	return pub, layer, !exists, true
}

func (p *Participant) newPublication(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) *publication {
	codec := track.Codec().RTPCodecCapability
	cfg := &p.room.sfu.cfg
	pub := &publication{
		id: track.ID(), streamID: track.StreamID(), kind: track.Kind(),
		codec: codec, ck: codecKindOf(codec.MimeType), owner: p.id,
		payloadType: uint8(track.Codec().PayloadType),
		pliInterval: cfg.PLIMinInterval.Nanoseconds(),
		muted:       &p.videoMuted,
		ctr:         &p.room.ctr,
	}
	cacheSize := cfg.PacketCacheSize
	if track.Kind() == webrtc.RTPCodecTypeAudio {
		pub.muted = &p.audioMuted
		cacheSize = max(cfg.PacketCacheSize/4, 16)
	}
	for _, e := range recv.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			pub.audioLevelID = uint8(e.ID)
		}
	}
	for i := range pub.layers {
		pub.layers[i].cache = newPacketCache(cacheSize)
	}
	pc := p.pc
	pub.sendPLI = func(ssrc uint32) {
		_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
	}
	return pub
}

// readLoop forwards one layer until the track ends, then retires it.
func (p *Participant) readLoop(pub *publication, layer int, track *webrtc.TrackRemote) {
	defer p.wg.Done()
	buf := make([]byte, maxPacketSize)
	var in rtp.Header
	var out outHeader
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				p.log.Debug("track read ended", "err", err)
			}
			break
		}
		pub.handlePacket(layer, buf[:n], &in, &out, p.room.sfu.now())
	}
	pub.layers[layer].active.Store(false)
	p.retireIfDone(pub)
}

// retireIfDone removes a publication whose layers have all ended.
func (p *Participant) retireIfDone(pub *publication) {
	for i := range pub.layers {
		if pub.layers[i].active.Load() {
			return
		}
	}
	p.mu.Lock()
	key := pub.streamID + "/" + pub.id
	mine := p.pubs[key] == pub
	if mine {
		delete(p.pubs, key)
	}
	p.mu.Unlock()
	if mine {
		p.room.dropPublication(pub)
	}
}

// receiverRTCPLoop drains the publisher's RTCP (sender reports) so the
// report interceptor sees it.
func (p *Participant) receiverRTCPLoop(recv *webrtc.RTPReceiver, rid string) {
	defer p.wg.Done()
	buf := make([]byte, maxPacketSize)
	for {
		var err error
		if rid == "" {
			_, _, err = recv.Read(buf)
		} else {
			_, _, err = recv.ReadSimulcast(buf, rid)
		}
		if err != nil {
			return
		}
	}
}

// dropPublication forgets pub and removes it from every subscriber.
func (r *Room) dropPublication(pub *publication) {
	pub.closed.Store(true) // subscribers racing with this undo themselves
	for _, other := range r.unpublish(pub) {
		other.unsubscribe(pub)
	}
	for _, d := range pub.subscribers() {
		pub.removeSub(d)
	}
}
