// What the screens say, worded once: dates, ages, authors, badges. Mirrors
// android-demo/.../presentation/Formatting.kt line for line; no UIKit or SwiftUI here.
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

private let isoDate = dateFormatter("yyyy-MM-dd", locale: "en_US_POSIX")
private let dayMonthYear = dateFormatter("d MMM yyyy", locale: "en_GB")
/// The family's own calendar day, in the phone's time zone.
private let localIsoDate = dateFormatter("yyyy-MM-dd", locale: "en_US_POSIX", timeZone: nil)

/// "2025-12-14" -> "14 Dec 2025"; text that is not an ISO date is shown as it came.
func formatDate(_ iso: String) -> String {
    guard let date = isoDate.date(from: iso) else { return iso }
    return dayMonthYear.string(from: date)
}

/// Today as the core's dates are written (ISO, the family's calendar day).
func isoToday() -> String {
    localIsoDate.string(from: Date())
}

/// "3 years 4 months", "7 months", "3 weeks", "4 days": as a health visitor says it.
func ageText(birthDate: String, today: String) -> String {
    guard let birth = isoDate.date(from: birthDate), let now = isoDate.date(from: today) else { return "" }
    if now < birth { return "not born yet" }
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = utc
    let months = calendar.dateComponents([.month], from: birth, to: now).month ?? 0
    let days = calendar.dateComponents([.day], from: birth, to: now).day ?? 0
    func plural(_ n: Int, _ unit: String) -> String { n == 1 ? "1 \(unit)" : "\(n) \(unit)s" }
    switch months {
    case 0 where days < 14: return plural(days, "day")
    case 0: return plural(days / 7, "week")
    case 1..<24: return plural(months, "month")
    case _ where months % 12 == 0: return plural(months / 12, "year")
    default: return "\(plural(months / 12, "year")) \(plural(months % 12, "month"))"
    }
}

func roleLabel(_ role: Role) -> String {
    switch role {
    case .parent: return "parent"
    case .carer: return "carer"
    case .midwife: return "midwife"
    case .healthVisitor: return "health visitor"
    case .gp: return "GP"
    case .nurse: return "nurse"
    }
}

/// What the app shows beside an entry's author. Invalid is shown, never hidden.
enum Badge: String {
    case verified = "verified"
    case unverified = "not verified"
    case invalid = "signature does not match"
    case notPermitted = "written without the right to write"
}

func badgeOf(_ verification: Verification) -> Badge {
    switch verification {
    case .verified: return .verified
    case .unverified: return .unverified
    case .invalid: return .invalid
    case .notPermitted: return .notPermitted
    }
}

/// "Nurse Patel (nurse, RQX)".
func authorLine(_ author: Author) -> String {
    let place = author.organisation.map { ", \($0)" } ?? ""
    return "\(author.displayName) (\(roleLabel(author.role))\(place))"
}

/// NHS numbers are read in groups of 3, 3 and 4: "943 476 5919".
func spacedNhsNumber(_ number: String) -> String {
    guard number.count == 10, number.allSatisfy(\.isNumber) else { return number }
    let digits = Array(number)
    return "\(String(digits[0..<3])) \(String(digits[3..<6])) \(String(digits[6...]))"
}
