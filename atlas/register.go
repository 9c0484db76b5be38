package atlas

import (
	"errors"
	"fmt"
	"time"

	"github.com/tomgo/targetdata/singletarget"
)

// Register adds the service class atlas.ForcedPhotometryService and the
// processor class atlas.Processor (the zero Processor: the TOM Toolkit's
// rule) to r. A settings file then reads:
//
//	single_target_data_services:
//	  ATLAS:
//	    class: atlas.ForcedPhotometryService
//	    api_key: ${ATLAS_FORCED_PHOTOMETRY_API_KEY}
//	data_product_types:
//	  atlas_photometry: ATLAS Photometry
//	data_processors:
//	  atlas_photometry: atlas.Processor
//
// See the package documentation (# Settings) for the optional keys.
func Register(r *singletarget.Registry) error {
	return errors.Join(
		r.Register(ServiceClass, Factory),
		r.RegisterProcessor(ProcessorClass, Processor{}),
	)
}

// settingsExtra are the optional keys of a settings entry.
type settingsExtra struct {
	PollQueued  string `setting:"poll_queued"`
	PollRunning string `setting:"poll_running"`
	PollGrowth  string `setting:"poll_growth"`
	PollMax     string `setting:"poll_max"`
	Deadline    string `setting:"deadline"`
	Timeout     string `setting:"timeout"`
	KeepRemote  bool   `setting:"keep_remote"`
	WriteRate   int    `setting:"write_rate" validate:"gte=-1"`
	WriteWindow string `setting:"write_window"`
	MaxActive   int    `setting:"max_active_tasks" validate:"gte=0"`
	LearnActive bool   `setting:"learn_active_limit"`
	MaxQueued   int    `setting:"max_queued_tasks" validate:"gte=-1"`
	ReadRate    int    `setting:"read_rate" validate:"gte=-1"`
	ReadWindow  string `setting:"read_window"`
	ListMaxAge  string `setting:"list_max_age"`
	Positions   string `setting:"queue_positions_max_age"`
	CallbackURL string `setting:"callback_url"`
}

// Factory builds the service from its settings: url (default DefaultURL),
// api_key (required) and the optional keys of the package documentation.
// Errors name the key and match singletarget.ErrConfig.
func Factory(s singletarget.Settings) (singletarget.Service, error) {
	key := func(k string) string { return "single_target_data_services." + s.Name + "." + k }
	var extra settingsExtra
	if err := s.DecodeExtra(&extra); err != nil {
		return nil, err
	}
	var errs []error
	if s.APIKey.IsZero() {
		errs = append(errs, &singletarget.ConfigError{Key: key("api_key"),
			Msg: "missing: the ATLAS account's API token (see https://fallingstar-data.com/forcedphot/apiguide/)"})
	}
	opts := Options{HTTPClient: s.HTTPClient, Logger: s.Logger, KeepRemote: extra.KeepRemote,
		WriteRate: extra.WriteRate, MaxActiveTasks: extra.MaxActive, LearnActiveLimit: extra.LearnActive, MaxQueuedTasks: extra.MaxQueued,
		ReadRate: extra.ReadRate, CallbackURL: extra.CallbackURL}
	for _, d := range []struct {
		k   string
		v   string
		dst *time.Duration
	}{
		{"poll_queued", extra.PollQueued, &opts.PollQueued},
		{"poll_running", extra.PollRunning, &opts.PollRunning},
		{"poll_max", extra.PollMax, &opts.PollMax},
		{"deadline", extra.Deadline, &opts.Deadline},
		{"timeout", extra.Timeout, &opts.Timeout},
		{"write_window", extra.WriteWindow, &opts.WriteWindow},
		{"read_window", extra.ReadWindow, &opts.ReadWindow},
		{"list_max_age", extra.ListMaxAge, &opts.ListMaxAge},
		{"queue_positions_max_age", extra.Positions, &opts.QueuePositionsMaxAge},
	} {
		if d.v == "" {
			continue
		}
		if d.k == "queue_positions_max_age" && d.v == "never" {
			*d.dst = -1
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil || v <= 0 {
			errs = append(errs, &singletarget.ConfigError{Key: key(d.k), Msg: fmt.Sprintf("%q is not a positive duration such as 4s or 10m", d.v)})
			continue
		}
		*d.dst = v
	}
	if extra.PollGrowth != "" {
		var g float64
		if _, err := fmt.Sscan(extra.PollGrowth, &g); err != nil || g < 1 {
			errs = append(errs, &singletarget.ConfigError{Key: key("poll_growth"), Msg: fmt.Sprintf("%q is not a number of at least 1", extra.PollGrowth)})
		}
		opts.PollGrowth = g
	}
	if extra.CallbackURL != "" {
		if err := checkCallbackURL(extra.CallbackURL); err != nil {
			errs = append(errs, &singletarget.ConfigError{Key: key("callback_url"), Msg: err.Error()})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	url := s.URL
	if url == "" {
		url = DefaultURL
	}
	svc, err := NewService(url, s.APIKey, &opts)
	if err != nil {
		return nil, &singletarget.ConfigError{Key: "single_target_data_services." + s.Name, Msg: singletarget.Redact(err.Error(), s.APIKey)}
	}
	return svc, nil
}
