// Local notifications for what is due: the core plans them (when, what, a stable id; the
// child's name only if the parent chose so, since they show on the lock screen); this
// keeps the platform's scheduled set in step. Plain Kotlin: the app supplies a
// NotificationScheduler over WorkManager or AlarmManager.
package uk.nhs.redbook.demo.presentation

import java.time.LocalDate
import uk.nhs.redbook.PlannedNotification
import uk.nhs.redbook.RedBook

/** What the platform does with a plan; it fires each on its day (`on`) at its `hour`. */
interface NotificationScheduler {
    /** The ids scheduled now, for every child. */
    fun scheduled(): Set<String>
    /** Schedules it, replacing one with the same id (WorkManager's REPLACE policy). */
    fun schedule(notification: PlannedNotification)
    fun cancel(id: String)
}

class Reminders(
    private val book: RedBook,
    private val scheduler: NotificationScheduler,
    private val today: () -> LocalDate = { LocalDate.now() },
) {
    /**
     * Brings the scheduled notifications in line with every child's plan: new ones are
     * scheduled, changed ones replaced, ones no longer planned (given, closed, past)
     * cancelled. Returns how many are scheduled.
     */
    fun refresh(showNames: Boolean): Int {
        val wanted = book.children().children.flatMap { child ->
            book.notificationPlan(child.id, today().toString(), showNames)
        }.associateBy { it.id }
        (scheduler.scheduled() - wanted.keys).forEach(scheduler::cancel)
        // Each is scheduled again: its wording may have changed (a name shown or not).
        wanted.values.forEach(scheduler::schedule)
        return wanted.size
    }
}
