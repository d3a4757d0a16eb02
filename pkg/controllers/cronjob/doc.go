// Package cronjob is the CronJob controller: it creates a Job from each
// CronJob's jobTemplate whenever its cron schedule says so, and keeps the
// CronJob's status (active Jobs, last schedule, last success) and its
// history of finished Jobs.
//
// It follows Kubernetes' pkg/controller/cronjob (the v2 controller):
//
//   - Schedules are standard five-field cron lines (minute hour
//     day-of-month month day-of-week, with *, lists, ranges, steps and
//     month and weekday names) or @yearly, @annually, @monthly, @weekly,
//     @daily, @midnight, @hourly and @every <duration>, parsed by
//     schedule.go (no dependency). spec.timeZone is honoured through
//     time.LoadLocation; without it schedules are read in UTC.
//
//   - Missed runs. A sync looks at the activations since
//     status.lastScheduleTime (or the CronJob's creation) up to now, and
//     starts only the most recent one: after an outage of hours, one
//     catch-up run, never a burst. When more than 100 were missed in the
//     window the controller would still start (the whole span, or the
//     last startingDeadlineSeconds), it warns with a TooManyMissedTimes
//     event. An activation older than startingDeadlineSeconds is too late
//     and is skipped with a MissSchedule event.
//
//   - One run per activation. A run's Job is named <cronjob>-<scheduled
//     time in minutes since the epoch>, so a second attempt at the same
//     run, after a crash between creating the Job and recording it, or
//     from a stale cache, gets AlreadyExists and records the existing Job
//     instead. Status writes carry the cached resourceVersion.
//
//   - concurrencyPolicy: Allow starts runs regardless; Forbid skips a run
//     while another is active (the run is not recorded, so it starts
//     when the active one ends if startingDeadlineSeconds still allows);
//     Replace deletes the active runs and starts the new one. A suspended
//     CronJob starts nothing; on resume its most recent missed run starts
//     if not too late.
//
//   - History. Finished Jobs beyond successfulJobsHistoryLimit and
//     failedJobsHistoryLimit are deleted, oldest first (propagation
//     Background: the garbage collector deletes their pods).
//
//   - Time comes from Config.Now, so tests move the clock by hand. After
//     each sync the CronJob is requeued for its next activation.
//
// The decisions are pure functions in decide.go and schedule.go;
// controller.go and sync.go read the caches and write to the API. Build
// the Controller with New before starting the informer factory, then
// call Run once; Run returns when its context is done. The controller
// never changes a Job once created, except to delete it (Replace,
// history); running the Job is the Job controller's work.
package cronjob
