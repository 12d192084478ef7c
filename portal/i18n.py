"""Vietnamese first, English available.

Source strings are Vietnamese; `EN` maps them to English. A string missing
from `EN` shows in Vietnamese (tests/portal/test_i18n.py checks every string
the templates use has an English entry).
"""

from __future__ import annotations

LANGUAGES = ("vi", "en")

EN: dict[str, str] = {
    # layout
    "Cổng đại lý dịch vụ công": "Public-service agent portal",
    "Tra cứu hồ sơ": "Track a dossier",
    "Đăng nhập": "Sign in",
    "Đăng xuất": "Sign out",
    "Hồ sơ": "Dossiers",
    "Nộp hồ sơ mới": "File a new dossier",
    "Thống kê": "Figures",
    "Toàn mạng lưới": "Whole network",
    "Nhật ký kiểm toán": "Audit log",
    "Trang chủ": "Home",
    "Phục vụ 24/7. Mọi bước đều được ghi nhận công khai.": "Open 24/7. Every step is on the public record.",
    # home
    "Nộp hồ sơ thủ tục hành chính trực tuyến tại điểm đại lý gần nhà, miễn phí hỗ trợ.":
        "File administrative procedures online at an agent point near you; the help is free.",
    "Điểm đại lý": "Agent points",
    "Phường": "Ward",
    "Địa chỉ": "Address",
    "Giờ mở cửa": "Opening hours",
    "Đối tác": "Partner",
    # login
    "Email": "Email",
    "Mật khẩu": "Password",
    "Email hoặc mật khẩu không đúng": "Wrong email or password",
    "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau 15 phút": "Too many failed attempts; try again in 15 minutes",
    "Tài khoản demo": "Demo accounts",
    # dossiers
    "Mã theo dõi": "Tracking code",
    "Thủ tục": "Procedure",
    "Chủ hồ sơ": "Owner",
    "Trạng thái": "Status",
    "Ngày nộp": "Filed",
    "Hẹn trả": "Due",
    "Chưa có hồ sơ nào.": "No dossiers yet.",
    "Chọn thủ tục": "Choose a procedure",
    "Mã TTHC": "Procedure code",
    "Lĩnh vực": "Field",
    "Thời hạn": "Time limit",
    "ngày làm việc": "working days",
    "Lệ phí": "Fee",
    "Miễn phí": "Free",
    "Giấy tờ cần có": "Required documents",
    "Thông tin chủ hồ sơ": "Owner's details",
    "Họ và tên": "Full name",
    "Số CCCD (12 chữ số)": "ID number (12 digits)",
    "Ngày sinh": "Date of birth",
    "Số điện thoại": "Phone number",
    "Người nộp thay (nếu có)": "Proxy (if any)",
    "Giấy ủy quyền (số, ngày)": "Authorisation (number, date)",
    "Thông tin thủ tục": "Procedure details",
    "Điểm tiếp nhận": "Receiving point",
    "Gửi hồ sơ": "Submit dossier",
    "Hồ sơ chưa hợp lệ; vui lòng sửa các trường được đánh dấu":
        "The dossier is not valid yet; please correct the marked fields",
    "Bắt buộc nhập": "Required",
    "Bắt buộc nhập khi nộp thay": "Required when filing by proxy",
    "Số CCCD phải gồm đúng 12 chữ số": "The ID number must be exactly 12 digits",
    "Số điện thoại không hợp lệ (10 chữ số, bắt đầu bằng 0)": "Invalid phone number (10 digits starting with 0)",
    "Ngày sinh không hợp lệ": "Invalid date of birth",
    "Ngày sinh không đúng định dạng (năm-tháng-ngày)": "Date of birth must be year-month-day",
    "Không đúng định dạng": "Wrong format",
    "Giá trị không hợp lệ": "Invalid value",
    "Phải là số nguyên": "Must be a whole number",
    "Giá trị quá nhỏ": "Too small",
    "Giá trị quá lớn": "Too large",
    "Quá dài": "Too long",
    "Thủ tục không có trong danh mục": "Procedure not in the catalogue",
    "Biên nhận hồ sơ": "Dossier receipt",
    "Hồ sơ đã được tiếp nhận và đang được gửi tới hệ thống một cửa của thành phố.":
        "The dossier has been received and is being sent to the city's one-stop system.",
    "Tra cứu tại": "Track at",
    "bằng mã theo dõi và số điện thoại của chủ hồ sơ.": "with the tracking code and the owner's phone number.",
    "Đánh giá dịch vụ (sau khi có kết quả)": "Rate the service (once the result is ready)",
    "In biên nhận": "Print receipt",
    "Lệ phí theo quy định": "Official fee",
    "Phí dịch vụ đại lý": "Agent service charge",
    "Nhân viên tiếp nhận": "Received by",
    "Mã hồ sơ (một cửa)": "City dossier code",
    "Lịch sử xử lý": "Processing history",
    "Thời gian": "Time",
    "Nguồn": "Source",
    "Người thực hiện": "By",
    "Ghi chú": "Note",
    "Lỗi gần nhất": "Last error",
    "Người nộp thay": "Proxy",
    "Đang chờ gửi hệ thống một cửa": "Queued for the city system",
    "Đã gửi hệ thống một cửa": "Sent to the city system",
    "Hệ thống một cửa từ chối nhận": "Refused by the city system",
    "Mới đăng ký": "Newly submitted",
    "Được tiếp nhận": "Received",
    "Không được tiếp nhận": "Refused at intake",
    "Đang xử lý": "Processing",
    "Yêu cầu bổ sung giấy tờ": "Additional documents requested",
    "Yêu cầu thực hiện nghĩa vụ tài chính": "Payment requested",
    "Công dân yêu cầu rút hồ sơ": "Withdrawn by the citizen",
    "Dừng xử lý": "Processing stopped",
    "Đã xử lý xong": "Processed",
    "Đã trả kết quả": "Result returned",
    # tracking & rating
    "Nhập mã theo dõi trên biên nhận và số điện thoại của chủ hồ sơ.":
        "Enter the tracking code from the receipt and the owner's phone number.",
    "Tra cứu": "Look up",
    "Không tìm thấy hồ sơ với mã và số điện thoại này": "No dossier with this code and phone number",
    "Đánh giá dịch vụ": "Rate the service",
    "Số sao": "Stars",
    "Nhận xét (không bắt buộc)": "Comment (optional)",
    "Gửi đánh giá": "Send rating",
    "Cảm ơn bạn đã đánh giá!": "Thank you for your rating!",
    "Hồ sơ này đã được đánh giá": "This dossier has already been rated",
    "Chỉ đánh giá được sau khi hồ sơ đã xử lý xong": "You can rate once the dossier has been processed",
    "Vui lòng chọn từ 1 đến 5 sao": "Please choose 1 to 5 stars",
    "Chọn từ 1 đến 5 sao": "Choose 1 to 5 stars",
    "Liên kết đánh giá không hợp lệ": "Invalid rating link",
    # dashboards
    "Thống kê theo điểm": "Figures per point",
    "Tổng số": "Total",
    "Chờ gửi": "Queued",
    "Bị từ chối": "Refused",
    "Đúng hạn": "On time",
    "Trễ hạn": "Late",
    "Lượt đánh giá": "Ratings",
    "Điểm trung bình": "Average rating",
    "Xuất CSV": "Export CSV",
    # audit
    "Kiểm tra chuỗi": "Verify chain",
    "Chuỗi nhật ký nguyên vẹn": "The audit chain is intact",
    "Chuỗi nhật ký bị phá vỡ tại mục": "The audit chain is broken at entry",
    "Số mục đã kiểm tra": "Entries checked",
    "Hành động": "Action",
    "Đối tượng": "Object",
    "Từ đâu": "From",
    # errors
    "Không tìm thấy": "Not found",
    "Không có quyền": "Not allowed",
    "Có lỗi xảy ra": "Something went wrong",
    "Không tìm thấy hồ sơ": "Dossier not found",
    "Bạn không được phân công tại điểm này": "You are not assigned to this point",
    "Về trang chủ": "Back to home",
}


def translate(text: str, language: str) -> str:
    if language == "en":
        return EN.get(text, text)
    return text
