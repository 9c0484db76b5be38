package atlastest_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tomgo/targetdata/atlas/atlastest"
)

// The simulator speaks the server's HTTP protocol, so any client can be
// tested against it: here a raw one, throttled once.
func Example() {
	sim := atlastest.Start(&atlastest.Options{RunTime: time.Millisecond})
	defer sim.Close()
	sim.ThrottleNext(3 * time.Second)

	post := func() (*http.Response, string) {
		form := url.Values{"ra": {"65.00165"}, "dec": {"-54.93795"}, "mjd_min": {"60316"}, "mjd_max": {"60336"}, "send_email": {"false"}}
		req, err := http.NewRequest("POST", sim.URL+"/queue/", strings.NewReader(form.Encode()))
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", "Token "+sim.Token.Reveal())
		resp, err := sim.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	resp, body := post()
	fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"), body)
	resp, _ = post()
	fmt.Println(resp.StatusCode, strings.TrimPrefix(resp.Header.Get("Location"), sim.URL))
	st := sim.Stats()
	fmt.Println("tasks:", st.TasksCreated, "throttled:", st.Throttled)
	// Output:
	// 429 3 {"detail":"Request was throttled. Expected available in 3 seconds."}
	// 201 /queue/1/
	// tasks: 1 throttled: 1
}
