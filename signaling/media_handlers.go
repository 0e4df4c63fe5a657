package signaling

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"

	"github.com/televisit/televisit/sfu"
	"github.com/televisit/televisit/visits"
)

const maxChatRunes = 2000

// mediaHandlers are the WebRTC signaling messages.
func mediaHandlers() map[string]handler {
	return map[string]handler{
		"join":               {fn: handleJoin},
		"offer":              {fn: sdpHandler((*sfu.Participant).HandleOffer)},
		"answer":             {fn: sdpHandler((*sfu.Participant).HandleAnswer)},
		"publish":            {fn: handlePublish},
		"ice_restart":        {fn: handleICERestart},
		"candidate":          {fn: handleCandidate},
		"mute":               {fn: handleMute},
		"mute_participant":   {fn: handleMuteParticipant},
		"remove_participant": {fn: handleRemoveParticipant},
		"chat":               {fn: handleChat},
		"leave":              {fn: handleLeave},
	}
}

// handleJoin puts the caller's PeerConnection in the visit's room, once the
// visits service says they are admitted. A participant who still holds a
// place (a reconnect within the grace window) resumes it.
func handleJoin(ctx context.Context, s *session, m inbound) error {
	if s.srv.media == nil {
		return &clientError{code: codeNoMedia, message: "media is not enabled on this server"}
	}
	if s.media != nil {
		return badMessage("already joined")
	}
	p, err := payload[joinPayload](m)
	if err != nil {
		return err
	}
	visit, err := joinVisit(s.actor, p.VisitID)
	if err != nil {
		return err
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	g, err := s.srv.media.granter.MediaGrant(cctx, s.actor, visit)
	if err != nil {
		return err
	}
	if !g.Admitted {
		return &clientError{code: codeNotAdmitted, message: "not admitted to the visit yet"}
	}
	sl, resumed, err := s.placeAndAttach(cctx, g, p.Resume == nil || *p.Resume)
	if err != nil {
		if errors.Is(err, sfu.ErrRoomFull) {
			return &clientError{code: codeForbidden, message: "the visit is full"}
		}
		return err
	}
	s.media = sl
	if err := s.sendJoined(m.ID, g, resumed); err != nil {
		return err
	}
	if resumed {
		// An offer sent while the socket was down was lost with it.
		if part, err := s.joined(); err == nil {
			part.ResendOffer()
		}
	}
	return s.askJoinerConsent(ctx)
}

// placeAndAttach finds the node holding the visit's room and, when it is
// this one, attaches the session to its slot there. Per visit, the
// placement decision and the attach are not interleaved with a release.
func (s *session) placeAndAttach(ctx context.Context, g visits.Grant, resume bool) (*mediaSlot, bool, error) {
	unlock := s.srv.media.placing.lock(g.VisitID)
	defer unlock()
	if err := s.placeRoom(ctx, g.VisitID); err != nil {
		return nil, false, err
	}
	return s.srv.media.attach(ctx, s, g, resume)
}

// joinVisit is the visit a join is for: staff name it, patients and
// guests have exactly one.
func joinVisit(a visits.Actor, raw string) (uuid.UUID, error) {
	if a.Kind == visits.ActorPatient || a.Kind == visits.ActorGuest {
		return a.VisitID, nil
	}
	id, err := uuid.Parse(raw)
	if err != nil {
		return uuid.Nil, badMessage("visit_id is required")
	}
	return id, nil
}

func (s *session) sendJoined(ref string, g visits.Grant, resumed bool) error {
	me := participantInfo{ParticipantID: g.ParticipantID, Role: g.Role, DisplayName: g.DisplayName}
	others := []participantInfo{}
	for _, sl := range s.srv.media.roster(g.VisitID) {
		if sl.key.participant != g.ParticipantID {
			others = append(others, participantInfo{ParticipantID: sl.grant.ParticipantID, Role: sl.grant.Role, DisplayName: sl.grant.DisplayName})
		}
	}
	var ice []ICEServer
	if s.cfg.ICEServers != nil {
		ice = s.cfg.ICEServers(g.ParticipantID)
	}
	if ice == nil {
		ice = []ICEServer{}
	}
	if err := s.send(joinedMsg{header: hdr("joined", ref), participantInfo: me, Resumed: resumed,
		Participants: others, ICEServers: ice}); err != nil {
		return err
	}
	if !resumed {
		s.srv.media.broadcastExcept(g.VisitID, s, participantJoinedMsg{header: hdr("participant_joined", ""), participantInfo: me})
	}
	return nil
}

// joined returns the caller's participant, or a not_joined error.
func (s *session) joined() (*sfu.Participant, error) {
	if s.media == nil {
		return nil, &clientError{code: codeNotJoined, message: "join the visit first"}
	}
	s.media.mu.Lock()
	p := s.media.part
	s.media.mu.Unlock()
	if p == nil {
		return nil, &clientError{code: codeNotJoined, message: "join the visit first"}
	}
	return p, nil
}

func sdpError(err error) error {
	if errors.Is(err, sfu.ErrGlare) {
		return &clientError{code: codeGlare, message: "offers crossed: roll back, answer the server's offer, then offer again"}
	}
	if errors.Is(err, sfu.ErrBadSDP) || errors.Is(err, sfu.ErrNoOfferPending) {
		return &clientError{code: codeBadSDP, message: "the session description was refused"}
	}
	return err
}

// sdpHandler adapts one of the participant's SDP methods (HandleOffer,
// HandleAnswer) to a message handler.
func sdpHandler(apply func(*sfu.Participant, context.Context, string) error) func(context.Context, *session, inbound) error {
	return func(ctx context.Context, s *session, m inbound) error {
		p, err := s.joined()
		if err != nil {
			return err
		}
		pl, err := payload[sdpPayload](m)
		if err != nil || pl.SDP == "" {
			return badMessage("sdp is required")
		}
		return sdpError(apply(p, ctx, pl.SDP))
	}
}

// handlePublish asks the server to offer receive slots for the client's
// tracks (one per kind listed), for clients that never offer themselves;
// with no kinds it only asks for the others' tracks (receive only).
func handlePublish(_ context.Context, s *session, m inbound) error {
	p, err := s.joined()
	if err != nil {
		return err
	}
	pl, err := payload[publishPayload](m)
	if err != nil {
		return err
	}
	if len(pl.Kinds) > 4 {
		return badMessage("kinds must list at most 4 of audio, video")
	}
	kinds := make([]webrtc.RTPCodecType, len(pl.Kinds))
	for i, k := range pl.Kinds {
		if kinds[i], err = mediaKind(k); err != nil {
			return err
		}
	}
	return p.Publish(kinds...)
}

// handleICERestart asks the server for an offer that restarts ICE.
func handleICERestart(_ context.Context, s *session, _ inbound) error {
	p, err := s.joined()
	if err != nil {
		return err
	}
	p.RestartICE()
	return nil
}

func handleCandidate(_ context.Context, s *session, m inbound) error {
	p, err := s.joined()
	if err != nil {
		return err
	}
	pl, err := payload[candidatePayload](m)
	if err != nil {
		return err
	}
	if err := p.AddICECandidate(pl.Candidate); err != nil {
		return badMessage("the ICE candidate was refused")
	}
	return nil
}

func mediaKind(k string) (webrtc.RTPCodecType, error) {
	switch k {
	case "audio":
		return webrtc.RTPCodecTypeAudio, nil
	case "video":
		return webrtc.RTPCodecTypeVideo, nil
	}
	return 0, badMessage("kind must be audio or video")
}

func handleMute(_ context.Context, s *session, m inbound) error {
	p, err := s.joined()
	if err != nil {
		return err
	}
	pl, err := payload[mutePayload](m)
	if err != nil {
		return err
	}
	kind, err := mediaKind(pl.Kind)
	if err != nil {
		return err
	}
	p.SetMuted(kind, pl.Muted)
	s.srv.media.broadcast(s.media.key.visit, participantMutedMsg{header: hdr("participant_muted", ""),
		ParticipantID: s.media.key.participant, Kind: pl.Kind, Muted: pl.Muted})
	return nil
}

// target finds another participant of the caller's visit for a clinician's
// action on them.
func (s *session) target(m inbound) (*mediaSlot, targetPayload, error) {
	if _, err := s.joined(); err != nil {
		return nil, targetPayload{}, err
	}
	if s.media.grant.Role != "clinician" {
		return nil, targetPayload{}, &clientError{code: codeForbidden, message: "only the clinician may do this"}
	}
	pl, err := payload[targetPayload](m)
	if err != nil {
		return nil, pl, err
	}
	t := s.srv.media.slot(s.media.key.visit, pl.ParticipantID)
	if t == nil || t == s.media {
		return nil, pl, badMessage("no such participant")
	}
	return t, pl, nil
}

func handleMuteParticipant(_ context.Context, s *session, m inbound) error {
	t, pl, err := s.target(m)
	if err != nil {
		return err
	}
	kind, err := mediaKind(pl.Kind)
	if err != nil {
		return err
	}
	t.mu.Lock()
	p := t.part
	t.mu.Unlock()
	if p != nil {
		p.SetMuted(kind, true)
	}
	s.srv.media.broadcast(t.key.visit, participantMutedMsg{header: hdr("participant_muted", ""),
		ParticipantID: t.key.participant, Kind: pl.Kind, Muted: true})
	return nil
}

func handleRemoveParticipant(_ context.Context, s *session, m inbound) error {
	t, _, err := s.target(m)
	if err != nil {
		return err
	}
	t.mu.Lock()
	sess := t.sess
	t.mu.Unlock()
	if sess != nil {
		sess.post(removedNotice{})
	}
	s.srv.media.drop(t)
	return nil
}

func handleChat(_ context.Context, s *session, m inbound) error {
	if _, err := s.joined(); err != nil {
		return err
	}
	pl, err := payload[chatPayload](m)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(pl.Text)
	if text == "" || utf8.RuneCountInString(text) > maxChatRunes {
		return badMessage("text must be 1 to 2000 characters")
	}
	s.srv.media.broadcast(s.media.key.visit, chatMsg{header: hdr("chat", m.ID), From: s.media.key.participant, Text: text, At: now()})
	return nil
}

func handleLeave(_ context.Context, s *session, m inbound) error {
	if s.media == nil {
		return nil
	}
	sl := s.media
	s.media = nil
	s.srv.media.drop(sl)
	return s.send(struct{ header }{hdr("left", m.ID)})
}
