package sfu

import (
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// estimateShareInterval is how often the connection's bandwidth estimate
// is divided among the video tracks it carries.
const estimateShareInterval = int64(250e6)

// subscribe adds a forwarded copy of pub to this participant's connection
// and renegotiates. It is idempotent.
func (p *Participant) subscribe(pub *publication) {
	p.mu.Lock()
	if p.closed || p.downs[pub] != nil || pub.owner == p.id {
		p.mu.Unlock()
		return
	}
	dt := newDownTrack(pub, pub.codec.ClockRate)
	dt.log = p.log
	tr, err := p.pc.AddTransceiverFromTrack(dt, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		p.mu.Unlock()
		p.log.Warn("add forwarded track", "err", err)
		return
	}
	// No codec preferences on the transceiver: Pion narrows later offers
	// to the codecs of earlier answers, so every m-line offers them all
	// and Bind picks the publisher's (see downtrack_bind.go).
	s := &subscription{dt: dt, sender: tr.Sender()}
	p.downs[pub] = s
	p.wg.Add(1)
	p.mu.Unlock()
	pub.addSub(dt)
	go p.senderRTCPLoop(s)
	if pub.closed.Load() { // dropped while we subscribed
		p.unsubscribe(pub)
		return
	}
	p.negotiate()
}

// unsubscribe removes the forwarded copy of pub and renegotiates.
func (p *Participant) unsubscribe(pub *publication) {
	p.mu.Lock()
	s := p.downs[pub]
	delete(p.downs, pub)
	closed := p.closed
	p.mu.Unlock()
	if s == nil {
		return
	}
	pub.removeSub(s.dt)
	if closed || p.room.isClosed() {
		return // the connection is going away: no renegotiation
	}
	if err := p.pc.RemoveTrack(s.sender); err != nil {
		p.log.Debug("remove forwarded track", "err", err)
	}
	p.negotiate()
}

// senderRTCPLoop reads the subscriber's RTCP for one forwarded track:
// keyframe requests go to the publisher (rate-limited), NACKs are answered
// from the packet cache, REMB updates the bandwidth estimate. Reading also
// feeds the interceptors (reports, congestion control).
func (p *Participant) senderRTCPLoop(s *subscription) {
	defer p.wg.Done()
	buf := make([]byte, maxPacketSize)
	rtx := make([]byte, maxPacketSize)
	var in rtp.Header
	var out outHeader
	for {
		n, _, err := s.sender.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			p.handleSubscriberRTCP(s.dt, pkt, rtx, &in, &out)
		}
		p.shareEstimate()
	}
}

func (p *Participant) handleSubscriberRTCP(dt *downTrack, pkt rtcp.Packet, rtx []byte, in *rtp.Header, out *outHeader) {
	switch pk := pkt.(type) {
	case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
		dt.pub.requestKeyframe(dt.keyframeLayer(), p.room.sfu.now())
	case *rtcp.ReceiverReport:
		dt.countLoss(pk.Reports)
	case *rtcp.TransportLayerNack:
		for _, pair := range pk.Nacks {
			if dt.pub.ctr != nil {
				dt.pub.ctr.nacked.Add(uint64(len(pair.PacketList())))
			}
			for _, seq := range pair.PacketList() {
				dt.retransmit(seq, rtx, in, out)
			}
		}
	case *rtcp.ReceiverEstimatedMaximumBitrate:
		p.remb.Store(int64(pk.Bitrate))
	}
}

// shareEstimate splits the connection's estimate (send-side GCC when
// enabled, else the peer's REMB) evenly among its video tracks, after a
// fixed allowance per audio track.
func (p *Participant) shareEstimate() {
	now := p.room.sfu.now()
	last := p.lastShare.Load()
	if now-last < estimateShareInterval || !p.lastShare.CompareAndSwap(last, now) {
		return
	}
	total := p.remb.Load()
	if e := p.estimator.Load(); e != nil {
		total = int64(e.GetTargetBitrate())
	}
	known := total > 0
	p.mu.Lock()
	defer p.mu.Unlock()
	var video []*downTrack
	for _, s := range p.downs {
		if s.dt.pub.kind == webrtc.RTPCodecTypeAudio {
			total -= 64_000
		} else {
			video = append(video, s.dt)
		}
	}
	if len(video) == 0 {
		return
	}
	share := int64(0) // unknown: no limit
	if known {
		share = max(total/int64(len(video)), 1)
	}
	for _, d := range video {
		d.setEstimate(share)
	}
}

// SetLayerHint caps the simulcast layer this participant receives from
// the given publisher's video (0 = lowest, 2 = highest), e.g. for a
// thumbnail. The bandwidth estimate may still choose a lower layer.
func (p *Participant) SetLayerHint(publisherID string, maxLayer int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pub, s := range p.downs {
		if pub.owner == publisherID && pub.kind == webrtc.RTPCodecTypeVideo {
			s.dt.setMaxLayer(maxLayer)
		}
	}
}
