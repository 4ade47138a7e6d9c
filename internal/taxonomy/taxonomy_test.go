package taxonomy

import "testing"

func TestKnownKeys(t *testing.T) {
	for _, k := range []string{"user.contact.email", "user.contact.phone_number", "user.financial"} {
		if !IsCategory(k) {
			t.Errorf("IsCategory(%q) = false", k)
		}
	}
	for _, k := range []string{"marketing.communications.email", "essential.service"} {
		if !IsUse(k) {
			t.Errorf("IsUse(%q) = false", k)
		}
	}
	for _, k := range []string{"", "user.contact.emial", "marketing.communications.email"} {
		if IsCategory(k) {
			t.Errorf("IsCategory(%q) = true", k)
		}
	}
	if IsUse("user.contact.email") {
		t.Error("a data category is not a data use")
	}
	if len(categories) < 50 || len(uses) < 20 {
		t.Errorf("the embedded lists look truncated: %d categories, %d uses", len(categories), len(uses))
	}
}
