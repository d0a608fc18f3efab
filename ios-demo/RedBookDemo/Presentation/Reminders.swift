// Local notifications for what is due, mirroring android-demo's Reminders.kt (tested on
// the JVM): the core plans them (when, what, a stable id; the child's name only if the
// parent chose so); this keeps UNUserNotificationCenter's pending set in step.
import Foundation
import UserNotifications

final class Reminders {
    private let book: RedBook
    private let center: UNUserNotificationCenter
    private let today: () -> String

    init(book: RedBook, center: UNUserNotificationCenter = .current(), today: @escaping () -> String = isoToday) {
        self.book = book
        self.center = center
        self.today = today
    }

    /// Schedules every child's plan (replacing by id) and removes what is no longer
    /// planned (given, closed, past).
    func refresh(showNames: Bool) throws {
        var wanted: [String: PlannedNotification] = [:]
        for child in try book.children().children {
            for notification in try book.notificationPlan(id: child.id, on: today(), showName: showNames) {
                wanted[notification.id] = notification
            }
        }
        center.getPendingNotificationRequests { pending in
            let stale = pending.map(\.identifier).filter { wanted[$0] == nil }
            self.center.removePendingNotificationRequests(withIdentifiers: stale)
            for notification in wanted.values {
                self.center.add(Self.request(notification))
            }
        }
    }

    private static func request(_ notification: PlannedNotification) -> UNNotificationRequest {
        let content = UNMutableNotificationContent()
        content.title = notification.title
        content.body = notification.body
        var when = DateComponents()
        let parts = notification.on.split(separator: "-").compactMap { Int($0) }
        if parts.count == 3 {
            when.year = parts[0]
            when.month = parts[1]
            when.day = parts[2]
        }
        when.hour = Int(notification.hour)
        let trigger = UNCalendarNotificationTrigger(dateMatching: when, repeats: false)
        return UNNotificationRequest(identifier: notification.id, content: content, trigger: trigger)
    }
}
