// The one date the app words itself: today, as the core's dates are written. Everything
// a screen says comes worded from the core (its screen models).
import Foundation

private let utc = TimeZone(identifier: "UTC")!

private func dateFormatter(_ format: String, locale: String, timeZone: TimeZone? = utc) -> DateFormatter {
    let formatter = DateFormatter()
    formatter.calendar = Calendar(identifier: .gregorian)
    formatter.locale = Locale(identifier: locale)
    if let timeZone { formatter.timeZone = timeZone }
    formatter.dateFormat = format
    return formatter
}

/// The family's own calendar day, in the phone's time zone.
private let localIsoDate = dateFormatter("yyyy-MM-dd", locale: "en_US_POSIX", timeZone: nil)

/// Today as the core's dates are written (ISO, the family's calendar day).
func isoToday() -> String {
    localIsoDate.string(from: Date())
}
