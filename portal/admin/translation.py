"""piccolo-admin's interface in Vietnamese (piccolo ships 15 languages, not this one).

The keys are piccolo's own English phrases (piccolo_admin/translations/data.py);
a phrase piccolo adds in a later release shows in English until it is added here
(tests/portal/admin/test_back_office.py names any that are missing).
"""

from __future__ import annotations

from piccolo_admin.translations.data import ENGLISH
from piccolo_admin.translations.models import Translation

VIETNAMESE = Translation(
    language_name="Tiếng Việt",
    language_code="vi",
    translations={
        "About": "Giới thiệu",
        "Add Row": "Thêm dòng",
        "Add": "Thêm",
        "Apply": "Áp dụng",
        "Ascending": "Tăng dần",
        "Back to home page": "Về trang chủ",
        "Back": "Quay lại",
        "Change Password": "Đổi mật khẩu",
        "Clear filters": "Xóa bộ lọc",
        "Close": "Đóng",
        "Comma": "Dấu phẩy",
        "Create": "Tạo",
        "Current password": "Mật khẩu hiện tại",
        "Dark Mode": "Giao diện tối",
        "Days": "Ngày",
        "Delete": "Xóa",
        "Delimiter": "Dấu phân cách",
        "Descending": "Giảm dần",
        "Download": "Tải xuống",
        "Download failed": "Tải xuống không thành công",
        "Download successful": "Đã tải xuống",
        "Edit": "Sửa",
        "Export CSV": "Xuất CSV",
        "Filter": "Lọc",
        "For timestamps which are timezone aware, they will be displayed in this timezone by default.": (
            "Thời điểm có múi giờ sẽ được hiển thị theo múi giờ này."
        ),
        "Form submitted": "Đã gửi biểu mẫu",
        "Forms": "Nghiệp vụ",
        "Hide Filters": "Ẩn bộ lọc",
        "Hide referencing tables": "Ẩn các bảng liên quan",
        "Home": "Trang chủ",
        "Hours": "Giờ",
        "Light Mode": "Giao diện sáng",
        "Links": "Liên kết",
        "Loading": "Đang tải",
        "Log Out": "Đăng xuất",
        "Login": "Đăng nhập",
        "MFA Code": "Mã xác thực",
        "MFA Setup": "Cài đặt xác thực hai lớp",
        "Minutes": "Phút",
        "New password confirmation": "Nhập lại mật khẩu mới",
        "New password": "Mật khẩu mới",
        "New value": "Giá trị mới",
        "No results found": "Không có kết quả",
        "Note: Large data sets may take a while.": "Lưu ý: dữ liệu lớn có thể mất một lúc.",
        "Note: They are converted to UTC when stored in the database.": "Lưu ý: thời điểm được lưu theo giờ UTC.",
        "of": "trên",
        "page": "trang",
        "Password": "Mật khẩu",
        "result(s)": "kết quả",
        "rows": "dòng",
        "Save": "Lưu",
        "Seconds": "Giây",
        "Select a column to update": "Chọn cột cần cập nhật",
        "Select a Column": "Chọn cột",
        "Select a table in the sidebar to get started.": "Chọn một bảng ở thanh bên để bắt đầu.",
        "selected result(s) on": "kết quả đã chọn trên",
        "Semicolon": "Dấu chấm phẩy",
        "Set Timezone": "Chọn múi giờ",
        "Show Filters": "Hiện bộ lọc",
        "Show referencing tables": "Hiện các bảng liên quan",
        "Showing": "Đang hiển thị",
        "Sort by": "Sắp xếp theo",
        "Sort": "Sắp xếp",
        "Submit": "Gửi",
        "Tables": "Bảng dữ liệu",
        "Timezone": "Múi giờ",
        "Thanks for using Piccolo Admin.": "Trang quản trị của Cổng dịch vụ công, dựng trên Piccolo Admin.",
        "Update": "Cập nhật",
        "Use again": "Dùng lại",
        "Username": "Tên đăng nhập",
        "Version": "Phiên bản",
        "Weeks": "Tuần",
        "Welcome to": "Chào mừng đến",
        "with a matching": "khớp với",
    },
)

# Vietnamese first (the portal's language), English complete (piccolo's own).
TRANSLATIONS = [VIETNAMESE, ENGLISH]


def missing_phrases() -> set[str]:
    """piccolo's phrases with no Vietnamese here (an upgrade of piccolo-admin may add some)."""
    return set(ENGLISH.translations) - set(VIETNAMESE.translations)
