package recording

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/visits"
)

// Manifest describes a finished recording. It carries no PHI.
type Manifest struct {
	RecordingID  uuid.UUID             `json:"recording_id"`
	VisitID      uuid.UUID             `json:"visit_id"`
	RequestedBy  uuid.UUID             `json:"requested_by"`
	RequestedAt  time.Time             `json:"requested_at"`
	StartedAt    *time.Time            `json:"started_at,omitempty"`
	StoppedAt    *time.Time            `json:"stopped_at,omitempty"`
	StopReason   string                `json:"stop_reason,omitempty"`
	Participants []ManifestParticipant `json:"participants"`
}

// ManifestParticipant is one participant asked: their consent and, when
// recorded, their object.
type ManifestParticipant struct {
	ParticipantID string          `json:"participant_id"`
	Consent       visits.Consent  `json:"consent"`
	Object        *ManifestObject `json:"object,omitempty"`
}

// ManifestObject is one stored recording and which tracks it holds.
type ManifestObject struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Container is "webm" (VP8, VP9, AV1 + Opus) or "matroska" (H264),
	// ContentType its MIME type.
	Container   string          `json:"container"`
	ContentType string          `json:"content_type"`
	Tracks      []ManifestTrack `json:"tracks"`
}

// ManifestTrack maps a published track to the file's track of its kind.
type ManifestTrack struct {
	Kind     string `json:"kind"`
	TrackID  string `json:"track_id"`
	MimeType string `json:"mime_type"`
}

func (s *session) writeManifest(ctx context.Context, objs []objectResult) error {
	rec, err := s.m.cat.RecordingByID(ctx, system, s.id)
	if err != nil {
		return err
	}
	man := Manifest{RecordingID: rec.ID, VisitID: rec.VisitID, RequestedBy: rec.RequestedBy, RequestedAt: rec.RequestedAt,
		StartedAt: rec.StartedAt, StoppedAt: rec.StoppedAt, StopReason: rec.StopReason, Participants: []ManifestParticipant{}}
	for _, c := range rec.Consents {
		mp := ManifestParticipant{ParticipantID: c.ParticipantID, Consent: c}
		for _, o := range objs {
			if o.participant == c.ParticipantID {
				mp.Object = manifestObject(o)
			}
		}
		man.Participants = append(man.Participants, mp)
	}
	body, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return err
	}
	key := store.Key{Visit: s.visit, Recording: s.id}
	id := uuid.New()
	if err := s.m.cat.AddRecordingObject(ctx, system, visits.RecordingObject{ID: id, RecordingID: s.id,
		Key: key.ManifestName()}); err != nil {
		return err
	}
	if _, err := s.m.store.PutManifest(ctx, key, body); err != nil {
		return fmt.Errorf("recording: manifest: %w", err)
	}
	sum := sha256.Sum256(body)
	return s.m.cat.RecordingObjectStored(ctx, system, id, int64(len(body)), sum[:])
}

func manifestObject(o objectResult) *ManifestObject {
	mo := &ManifestObject{Key: o.key.String(), Size: o.size, SHA256: hex.EncodeToString(o.sum),
		Container: o.container.Name, ContentType: o.container.ContentType, Tracks: []ManifestTrack{}}
	for _, t := range o.tracks {
		mo.Tracks = append(mo.Tracks, ManifestTrack{Kind: t.Kind, TrackID: t.TrackID, MimeType: t.MimeType})
	}
	return mo
}
